// Dataset uploads: multipart/form-data (field "file") or a raw CSV / JSONL / JSON body, streamed into
// importDataset so a large file never sits in memory. Name, format and id field come from the query
// (?name=&format=&id_field=), else the form fields before the file, else the file name.
import "server-only";
import { getConfig } from "@/lib/config";
import { importDataset, type Dataset, type DatasetFormat } from "@/lib/datasets";
import { multipartBoundary, parseMultipartUpload } from "@/lib/datasets/parse-upload";
import { AppError } from "@/lib/errors";
import { pacedBody } from "./client-body";
import { isJsonContentType } from "./handler";

export interface UploadQuery {
  name?: string;
  format?: DatasetFormat;
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

const EXTENSIONS: Record<string, DatasetFormat> = { csv: "csv", jsonl: "jsonl", ndjson: "jsonl", json: "json" };

const mediaType = (ct: string | null) => (ct ?? "").split(";")[0]!.trim().toLowerCase();

/** An upload rather than the JSON `{name, records}` body: multipart, a raw file type, or JSON with ?name=. */
export function isUploadRequest(request: Request, query: UploadQuery): boolean {
  const type = mediaType(request.headers.get("content-type"));
  if (type === "multipart/form-data") return true;
  if (isJsonContentType(type)) return query.name !== undefined;
  if (RAW_TYPES[type] || type === "text/plain") return true;
  if (!type) return false; // readJsonBody answers: empty body -> 422, otherwise 415
  throw new AppError(
    "unsupported_media_type",
    `cannot import ${type}: send application/json {name, records}, multipart/form-data with a "file" field, or text/csv, application/x-ndjson, application/json with ?name=`,
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
    const { fields, file } = await parseMultipartUpload(body, boundary);
    if (!file) throw required("file", 'the form has no "file" field');
    const name = query.name ?? fields.name ?? file.filename?.replace(/\.[^.]+$/, "");
    if (!name) throw required("name", "name is required (?name= or a form field before the file)");
    const format = query.format ?? (fields.format as DatasetFormat | undefined) ?? formatFrom(file.filename, file.contentType);
    if (!format) throw required("format", "format is required: csv, jsonl, json or openai (not inferable from the file name)");
    return importDataset({
      name,
      format,
      body: file.body,
      idField: query.id_field ?? fields.id_field,
      description: query.description ?? fields.description,
      maxBytes,
    });
  }

  if (!query.name) throw required("name", "name is required as ?name= for a raw upload");
  const format = query.format ?? RAW_TYPES[mediaType(contentType)];
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
