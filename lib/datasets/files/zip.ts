// A zip upload, read entry by entry. A zip's table of contents is at its end, so the upload is first
// spooled to a temporary file (streamed, bounded memory; removed afterwards); then its table is checked
// whole before any entry is read (paths inside the root, entry count, sizes, compression ratio), and the
// entries are streamed out one at a time, each decompressed as it is read.
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import yauzl from "yauzl";
import { AppError } from "@/lib/errors";
import { badFile, filePathId, isJunkPath } from "./paths";
import type { FileLimits, IncomingFile } from "./types";

// below this, a high ratio is ordinary (a text file of repeated lines); above it, a bomb's signature
const RATIO_FLOOR_BYTES = 1024 * 1024;

function notAZip(zipName: string, err: unknown): AppError {
  return badFile(zipName, `not a readable zip file: ${(err as Error).message}`);
}

/** yauzl's complaint about an entry's name, as our error naming the zip and the entry. */
function entryNameError(zipName: string, err: unknown): AppError | null {
  const m = /^(absolute path|invalid relative path|invalid characters in fileName): (.*)$/.exec((err as Error).message ?? "");
  if (!m) return null;
  const why = m[1] === "invalid relative path" ? "leads outside the archive's root (..)" : m[1] === "absolute path" ? "is an absolute path" : "has invalid characters";
  return badFile(`${zipName}/${m[2]}`, `the zip entry ${why}: refused`);
}

async function openZip(file: string, zipName: string): Promise<yauzl.ZipFile> {
  try {
    return await yauzl.openPromise(file, { decodeStrings: true, validateEntrySizes: true, strictFileNames: true });
  } catch (err) {
    throw entryNameError(zipName, err) ?? notAZip(zipName, err);
  }
}

async function* entries(zip: yauzl.ZipFile, zipName: string): AsyncGenerator<yauzl.Entry> {
  try {
    for await (const entry of zip.eachEntry()) yield entry;
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw entryNameError(zipName, err) ?? notAZip(zipName, err);
  }
}

const isDirectory = (e: yauzl.Entry) => e.fileName.endsWith("/");

/** Checks the whole table of contents before anything is read: one bad entry refuses the zip. */
async function checkTable(file: string, zipName: string, limits: FileLimits, filesSoFar: number): Promise<void> {
  const zip = await openZip(file, zipName);
  try {
    if (zip.entryCount > limits.maxFiles) {
      throw badFile(zipName, `the zip has ${zip.entryCount} entries, more than the ${limits.maxFiles} files a dataset may hold (BATCHBOARD_MAX_DATASET_FILES)`, "limit_exceeded");
    }
    let files = filesSoFar;
    let total = 0;
    for await (const e of entries(zip, zipName)) {
      const where = `${zipName}/${e.fileName}`;
      filePathId(e.fileName); // the same rules as a folder's paths (yauzl checked them too)
      if (isDirectory(e) || isJunkPath(e.fileName)) continue;
      if (e.isEncrypted()) throw badFile(where, "the zip entry is encrypted: refused");
      if (!e.canDecodeFileData()) throw badFile(where, `the zip entry uses compression method ${e.compressionMethod}: only stored and deflated entries are read`);
      if (e.uncompressedSize > limits.maxFileBytes) {
        throw badFile(where, `the file unpacks to ${e.uncompressedSize} bytes, more than the limit of ${limits.maxFileBytes} (BATCHBOARD_MAX_FILE_BYTES)`, "payload_too_large");
      }
      if (e.uncompressedSize > RATIO_FLOOR_BYTES && e.uncompressedSize > limits.maxZipRatio * Math.max(e.compressedSize, 1)) {
        const ratio = Math.round(e.uncompressedSize / Math.max(e.compressedSize, 1));
        throw badFile(where, `the entry unpacks to ${ratio} times its compressed size, more than ${limits.maxZipRatio} (BATCHBOARD_MAX_ZIP_RATIO): refused as a zip bomb`);
      }
      total += e.uncompressedSize;
      if (total > limits.maxTotalBytes) {
        throw badFile(zipName, `the zip unpacks to more than the ${limits.maxTotalBytes} bytes a dataset's files may hold (BATCHBOARD_MAX_UPLOAD_BYTES)`, "payload_too_large");
      }
      if (++files > limits.maxFiles) {
        throw badFile(zipName, `more than the ${limits.maxFiles} files a dataset may hold (BATCHBOARD_MAX_DATASET_FILES)`, "limit_exceeded");
      }
    }
  } finally {
    zip.close();
  }
}

/**
 * The files inside a zip upload, in the zip's order (directories and junk such as __MACOSX/ skipped).
 * Each entry's body must be read to its end before the next is asked for.
 */
export async function* zipFiles(zipName: string, bytes: AsyncIterable<Uint8Array>, limits: FileLimits, filesSoFar = 0): AsyncGenerator<IncomingFile> {
  const dir = await mkdtemp(path.join(tmpdir(), "batchboard-zip-"));
  try {
    const file = path.join(dir, "upload.zip");
    await pipeline(Readable.from(limited(bytes, zipName, limits.maxTotalBytes)), createWriteStream(file));
    await checkTable(file, zipName, limits, filesSoFar);
    const zip = await openZip(file, zipName);
    try {
      for await (const e of entries(zip, zipName)) {
        if (isDirectory(e) || isJunkPath(e.fileName)) continue;
        const where = `${zipName}/${e.fileName}`;
        const stream = await zip.openReadStreamPromise(e).catch((err: unknown) => {
          throw badFile(where, `the zip entry cannot be read: ${(err as Error).message}`);
        });
        yield { path: e.fileName, declaredType: null, body: entryBytes(stream, where) };
      }
    } finally {
      zip.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The upload's bytes, refused as soon as they pass the limit (a chunked body declares no length). */
async function* limited(bytes: AsyncIterable<Uint8Array>, zipName: string, max: number): AsyncGenerator<Uint8Array> {
  let size = 0;
  for await (const c of bytes) {
    size += c.byteLength;
    if (size > max) throw badFile(zipName, `the zip is larger than the limit of ${max} bytes (BATCHBOARD_MAX_UPLOAD_BYTES)`, "payload_too_large");
    yield c;
  }
}

/** An entry's stream, its failures (a size that does not match the table, corrupt data) named. */
async function* entryBytes(stream: Readable, where: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (err) {
    throw badFile(where, `the zip entry is corrupt: ${(err as Error).message}`);
  } finally {
    stream.destroy();
  }
}
