// Dataset uploads: multipart/form-data or a raw CSV / JSONL / JSON / zip body, streamed into the import
// so a large file never sits in memory. One CSV / JSONL / JSON file is a dataset of its rows; anything
// else (several files, a folder's files, a zip, a PDF; or ?format=files) is a dataset of files, one record
// per file. Name, format and id field come from the query (?name=&format=&id_field=), else the form
// fields before the first file, else the file (or its folder's) name.
import "server-only";
import { getConfig } from "@/lib/config";
import { importDataset, type Dataset, type DatasetFormat } from "@/lib/datasets";
import { fileLimits, importFileDataset, isZipName, zipFiles, type IncomingFile } from "@/lib/datasets/files";
import { multipartBoundary, multipartParts, type MultipartPart } from "@/lib/datasets/parse-upload";
import { AppError } from "@/lib/errors";
import { pacedBody } from "./client-body";
import { isJsonContentType } from "./handler";

export type UploadFormat = DatasetFormat | "files";

export interface UploadQuery {
  name?: string;
  format?: UploadFormat;
  id_field?: string;
  description?: string;
}

const RAW_TYPES: Record<string, DatasetFormat> = {
  "text/csv": "csv",
  "application/csv": "csv",
  "application/x-ndjson": "jsonl",
  "application/jsonl": "jsonl",
  "application/x-jsonlines": "jsonl",
  "application/jsonlines": "jsonl",
  "application/json": "json",
};

const ZIP_TYPES = new Set(["application/zip", "application/x-zip-compressed"]);

const EXTENSIONS: Record<string, DatasetFormat> = { csv: "csv", jsonl: "jsonl", ndjson: "jsonl", json: "json" };

const mediaType = (ct: string | null) => (ct ?? "").split(";")[0]!.trim().toLowerCase();

/** An upload rather than the JSON `{name, records}` body: multipart, a raw file type, or JSON with ?name=. */
export function isUploadRequest(request: Request, query: UploadQuery): boolean {
  const type = mediaType(request.headers.get("content-type"));
  if (type === "multipart/form-data") return true;
  if (isJsonContentType(type)) return query.name !== undefined;
  if (RAW_TYPES[type] || ZIP_TYPES.has(type) || type === "text/plain") return true;
  if (!type) return false; // readJsonBody answers: empty body -> 422, otherwise 415
  throw new AppError(
    "unsupported_media_type",
    `cannot import ${type}: send application/json {name, records}, multipart/form-data with a "file" field (or many files), or text/csv, application/x-ndjson, application/json, application/zip with ?name=`,
  );
}

function formatFrom(filename: string | null | undefined, contentType: string | null | undefined): DatasetFormat | undefined {
  const ext = filename?.toLowerCase().match(/\.([a-z]+)$/)?.[1];
  return (ext && EXTENSIONS[ext]) || RAW_TYPES[mediaType(contentType ?? null)];
}

function required(path: string, message: string): AppError {
  return new AppError("validation_failed", message, [{ path, message }]);
}

export async function importUploadedDataset(request: Request, query: UploadQuery): Promise<Dataset> {
  const maxBytes = getConfig().BATCHBOARD_MAX_UPLOAD_BYTES;
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes + 64 * 1024) {
    const message = `the upload is larger than the limit of ${maxBytes} bytes (BATCHBOARD_MAX_UPLOAD_BYTES)`;
    throw new AppError("payload_too_large", message, [{ path: "file", message }]);
  }
  if (!request.body) throw required("file", "the upload is empty");
  // a client too slow to keep up the minimum rate is dropped (408), not left holding an import
  const body = pacedBody(request.body);
  const contentType = request.headers.get("content-type");

  if (mediaType(contentType) === "multipart/form-data") {
    const boundary = multipartBoundary(contentType);
    if (!boundary) throw new AppError("bad_request", "multipart/form-data without a boundary");
    return importMultipart(body, boundary, query, maxBytes);
  }

  if (ZIP_TYPES.has(mediaType(contentType)) || query.format === "files") {
    if (!query.name) throw required("name", "name is required as ?name= for a raw upload");
    const zipName = `${query.name}.zip`;
    if (query.format === "files" && !ZIP_TYPES.has(mediaType(contentType))) {
      throw required("format", "a raw body with ?format=files must be a zip (Content-Type: application/zip); send files as multipart/form-data");
    }
    return importFileDataset({ name: query.name, description: query.description, files: zipFiles(zipName, streamBytes(body), fileLimits()) });
  }

  if (!query.name) throw required("name", "name is required as ?name= for a raw upload");
  const format = (query.format as DatasetFormat | undefined) ?? RAW_TYPES[mediaType(contentType)];
  if (!format) throw required("format", "format is required as ?format= (csv, jsonl, json, openai)");
  return importDataset({
    name: query.name,
    format,
    body,
    idField: query.id_field,
    description: query.description,
    maxBytes,
  });
}

async function* streamBytes(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** The dataset's name when none is given: the files' folder ("invoices/a.pdf"), a zip's or the file's name. */
function nameFromFile(filename: string): string | undefined {
  const path = filename.replaceAll("\\", "/");
  const folder = path.includes("/") ? path.slice(0, path.indexOf("/")) : "";
  return (folder || path.replace(/\.[^./]+$/, "")) || undefined;
}

/** Multipart: the fields before the first file decide; then one tabular file, or every file as a record. */
async function importMultipart(body: ReadableStream<Uint8Array>, boundary: string, query: UploadQuery, maxBytes: number): Promise<Dataset> {
  const parts = multipartParts(body, boundary);
  try {
    const fields: Record<string, string> = {};
    let first: MultipartPart | null = null;
    for (let next = await parts.next(); !next.done; next = await parts.next()) {
      if (next.value.filename !== null) {
        first = next.value;
        break;
      }
      if (next.value.name) fields[next.value.name] = await next.value.text();
    }
    if (!first) throw required("file", 'the form has no "file" field');
    const format = query.format ?? (fields.format as UploadFormat | undefined) ?? formatFrom(first.filename, first.contentType) ?? "files";
    const name = query.name ?? fields.name ?? nameFromFile(first.filename ?? "");
    if (!name) throw required("name", "name is required (?name= or a form field before the file)");
    const description = query.description ?? fields.description;
    const nextPart = async () => {
      const next = await parts.next();
      return next.done ? null : next.value;
    };
    if (format !== "files") {
      return await importDataset({
        name,
        format,
        body: first.body,
        idField: query.id_field ?? fields.id_field,
        description,
        maxBytes,
        // a second file means the user meant files: refuse rather than import the first one's rows
        beforeCommit: async () => {
          for (let part = await nextPart(); part; part = await nextPart()) {
            if (part.filename !== null) {
              const message = `the form holds more than one file: ${JSON.stringify(first.filename)} was read as ${format} rows; send format=files to store each file as a record`;
              throw new AppError("validation_failed", message, [{ path: "format", message }]);
            }
          }
        },
      });
    }
    const limits = fileLimits();
    let count = 0;
    async function* files(part: MultipartPart | null): AsyncGenerator<IncomingFile> {
      for (; part; part = await nextPart()) {
        if (part.filename === null) continue; // a field among the files: not a file
        if (isZipName(part.filename, part.contentType)) {
          for await (const f of zipFiles(part.filename, part.body, limits, count)) {
            count++;
            yield f;
          }
        } else {
          count++;
          yield { path: part.filename, declaredType: part.contentType, body: part.body };
        }
      }
    }
    return await importFileDataset({ name, description, files: files(first), limits });
  } finally {
    await parts.return(undefined);
  }
}
