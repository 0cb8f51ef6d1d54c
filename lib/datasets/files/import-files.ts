// A dataset of files: one record per file ({id, filename, content_type, bytes, sha256}), its bytes in
// dataset_files. All in one import transaction, like every import: a file over a limit, a bad path or
// a duplicate refuses the whole upload and nothing stays behind. The bytes stream through one COPY as
// they arrive (COPY's backpressure paces the upload), so memory holds a chunk, not a file.
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { getConfig } from "@/lib/config";
import { inImportTransaction } from "@/lib/db/imports";
import { copyDatasetFiles } from "@/lib/db/sql/datasets";
import { AppError } from "@/lib/errors";
import { checkName, finishDatasetRow, insertDatasetRow, newDatasetId, type Dataset } from "../index";
import { escapeCopyText, writeDatasetRecords, type DatasetRecordRow } from "../write-records";
import { detectContentType } from "./content-type";
import { badFile, filePathId, isJunkPath } from "./paths";
import type { FileLimits, FileRecord, IncomingFile } from "./types";

/** Bytes per dataset_files row: a read or write moves a chunk at a time. */
export const FILE_CHUNK_BYTES = 256 * 1024;

export function fileLimits(): FileLimits {
  const c = getConfig();
  return {
    maxFileBytes: c.BATCHBOARD_MAX_FILE_BYTES,
    maxFiles: c.BATCHBOARD_MAX_DATASET_FILES,
    maxTotalBytes: c.BATCHBOARD_MAX_UPLOAD_BYTES,
    maxZipRatio: c.BATCHBOARD_MAX_ZIP_RATIO,
  };
}

export interface ImportFilesInput {
  name: string;
  description?: string;
  files: AsyncIterable<IncomingFile>;
  limits?: FileLimits;
}

export async function importFileDataset(input: ImportFilesInput): Promise<Dataset> {
  const name = checkName(input.name);
  const limits = input.limits ?? fileLimits();
  const id = newDatasetId();
  const records: DatasetRecordRow[] = [];
  const seen = new Set<string>();
  let total = 0;
  const datasetField = escapeCopyText(id);

  async function* chunkRows(): AsyncGenerator<string> {
    for await (const file of input.files) {
      const recordId = filePathId(file.path);
      if (isJunkPath(recordId)) {
        for await (const c of file.body) void c;
        continue;
      }
      if (seen.has(recordId)) throw badFile(recordId, "two files have this path: each file's path must be unique in the dataset");
      seen.add(recordId);
      if (seen.size > limits.maxFiles) {
        throw badFile(recordId, `more than the ${limits.maxFiles} files a dataset may hold (BATCHBOARD_MAX_DATASET_FILES)`, "limit_exceeded");
      }
      const position = records.length;
      const hash = createHash("sha256");
      let bytes = 0;
      let chunk = 0;
      let head: Uint8Array | null = null;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const row = (data: Buffer) => `${datasetField}\t${position}\t${chunk++}\t\\\\x${data.toString("hex")}\n`;
      for await (const raw of file.body) {
        const c = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
        bytes += c.length;
        total += c.length;
        if (bytes > limits.maxFileBytes) {
          throw badFile(recordId, `the file is larger than the limit of ${limits.maxFileBytes} bytes (BATCHBOARD_MAX_FILE_BYTES)`, "payload_too_large");
        }
        if (total > limits.maxTotalBytes) {
          throw badFile(recordId, `the files hold more than the ${limits.maxTotalBytes} bytes a dataset may (BATCHBOARD_MAX_UPLOAD_BYTES)`, "payload_too_large");
        }
        hash.update(c);
        head ??= Buffer.from(c.subarray(0, 16));
        pending.push(c);
        pendingBytes += c.length;
        if (pendingBytes >= FILE_CHUNK_BYTES) {
          const all = Buffer.concat(pending);
          let at = 0;
          for (; all.length - at >= FILE_CHUNK_BYTES; at += FILE_CHUNK_BYTES) yield row(all.subarray(at, at + FILE_CHUNK_BYTES));
          pending = at < all.length ? [all.subarray(at)] : [];
          pendingBytes = all.length - at;
        }
      }
      if (pendingBytes > 0) yield row(Buffer.concat(pending));
      const filename = recordId.slice(recordId.lastIndexOf("/") + 1);
      const data: FileRecord = {
        id: recordId,
        filename,
        content_type: detectContentType(filename, file.declaredType, head ?? new Uint8Array()),
        bytes,
        sha256: hash.digest("hex"),
      };
      records.push({ recordId, data });
    }
  }

  return inImportTransaction(async (client) => {
    await insertDatasetRow(client, { id, name, kind: "upload", description: input.description ?? null, format: "files", idField: "id" });
    await pipeline(Readable.from(chunkRows()), copyDatasetFiles(client));
    if (records.length === 0) {
      const message = "the upload has no files";
      throw new AppError("validation_failed", message, [{ path: "file", message }]);
    }
    const { count } = await writeDatasetRecords(client, id, records, { describePosition: (p) => JSON.stringify(records[p]?.recordId) });
    return finishDatasetRow(client, id, { recordCount: count, sizeBytes: total, idField: "id" });
  });
}
