// /v1/files: an uploaded Batch input file streams into a dataset (custom_id as the record id, lines
// that are not requests noted for the batch that reads it); a batch's output and error files are
// generated from its results when read. Ids are `file-…` for both, listed and deleted alike.
import "server-only";
import type pg from "pg";
import { pacedBody } from "@/lib/api/client-body";
import { getConfig } from "@/lib/config";
import { getPool, getPrisma } from "@/lib/db/client";
import { findOpenAIFile, inputRecordsAfter, insertInputFile, listOpenAIFiles } from "@/lib/db/sql/openai";
import { deleteDataset, importDataset } from "@/lib/datasets";
import { multipartBoundary, parseMultipartUpload } from "@/lib/datasets/parse-upload";
import { AppError } from "@/lib/errors";
import { invalid } from "./http";
import { inputFileParser } from "./input-file";
import { newFileId, toFileObject, type FileObject, type FileRow } from "./objects";
import { outputLines } from "./output";

export const FILE_PURPOSES = ["assistants", "batch", "fine-tune", "vision", "user_data", "evals"] as const;

export const noSuchFile = (id: string, param = "file_id") =>
  new AppError("not_found", `No such File object: ${id}`, [{ path: param, message: "no such file" }]);

export async function findFile(id: string, client: pg.ClientBase | pg.Pool = getPool()): Promise<FileRow | null> {
  return findOpenAIFile(client, id);
}

async function getFileRow(id: string): Promise<FileRow> {
  const row = await findFile(id);
  if (!row) throw noSuchFile(id);
  return row;
}

export async function getFile(id: string): Promise<FileObject> {
  return toFileObject(await getFileRow(id));
}

/** `expires_after[anchor]` and `expires_after[seconds]` as the SDKs send them in a form: seconds, or null. */
function expiresAfter(fields: Record<string, string>): number | null {
  const anchor = fields["expires_after[anchor]"];
  const seconds = fields["expires_after[seconds]"];
  if (anchor === undefined && seconds === undefined) return null;
  if (anchor !== "created_at") throw invalid("expires_after.anchor", "expires_after[anchor] must be created_at");
  const n = Number(seconds);
  if (!Number.isInteger(n) || n < 3600 || n > 2_592_000) {
    throw invalid("expires_after.seconds", "expires_after[seconds] must be an integer from 3600 (1 hour) to 2592000 (30 days)");
  }
  return n;
}

function checkPurpose(purpose: string | undefined): void {
  if (purpose === undefined) throw invalid("purpose", "Missing required parameter: 'purpose'.");
  if (purpose === "batch") return;
  const known = (FILE_PURPOSES as readonly string[]).includes(purpose);
  throw invalid(
    "purpose",
    known
      ? `Batchboard stores files for the Batch API only: purpose must be 'batch' (got '${purpose}').`
      : `Invalid value for 'purpose': '${purpose}'. Supported values are: ${FILE_PURPOSES.map((p) => `'${p}'`).join(", ")}; Batchboard accepts 'batch'.`,
  );
}

const cleanFilename = (name: string | null) => (name ?? "").replace(/[\u0000-\u001f\u007f/\\]/g, "").trim().slice(0, 150) || "upload.jsonl";

/**
 * POST /v1/files: multipart with `file` and `purpose` (batch), in either order. The file streams into
 * a dataset; a purpose read after the file is checked before the import commits, so a refused upload
 * leaves nothing behind.
 */
export async function uploadFile(request: Request): Promise<FileObject> {
  const maxBytes = getConfig().BATCHBOARD_MAX_UPLOAD_BYTES;
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes + 64 * 1024) {
    throw invalid("file", `the upload is larger than the limit of ${maxBytes} bytes (BATCHBOARD_MAX_UPLOAD_BYTES)`, "payload_too_large");
  }
  const contentType = request.headers.get("content-type");
  const boundary = /^multipart\/form-data/i.test(contentType ?? "") ? multipartBoundary(contentType) : null;
  if (!boundary || !request.body) throw invalid("file", "send the file as multipart/form-data with the fields `file` and `purpose`");
  // a client too slow to keep up the minimum rate is dropped (408), not left holding an import
  const upload = await parseMultipartUpload(pacedBody(request.body), boundary);
  if (upload.fields.purpose !== undefined) checkPurpose(upload.fields.purpose);
  if (!upload.file) throw invalid("file", "Missing required parameter: 'file'.");
  const id = newFileId();
  const filename = cleanFilename(upload.file.filename);
  const reader = inputFileParser();
  let row: FileRow | undefined;
  await importDataset({
    name: `${filename} (${id})`,
    description: `Batch input file ${id}, uploaded through /v1/files`,
    format: "openai",
    body: upload.file.body,
    maxBytes,
    parse: reader.parse,
    allowEmpty: true,
    beforeCommit: async (client, dataset) => {
      const fields = { ...(await upload.fieldsAfter()), ...upload.fields };
      checkPurpose(fields.purpose);
      const seconds = expiresAfter(fields);
      const summary = reader.summary();
      row = await insertInputFile(client, {
        id,
        filename,
        bytes: dataset.sizeBytes,
        expiresInSeconds: seconds,
        datasetId: dataset.id,
        lineCount: summary.lineCount,
        problems: summary.problems,
        problemCount: summary.problemCount,
        lineBreaks: summary.lineBreaks,
      });
    },
  });
  return toFileObject(row!);
}

export interface ListFilesQuery {
  purpose?: string;
  limit: number;
  order: "asc" | "desc";
  after?: string;
}

export interface ListPage<T> {
  object: "list";
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export function listPage<T extends { id: string }>(rows: T[], limit: number): ListPage<T> {
  const data = rows.slice(0, limit);
  return { object: "list", data, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null, has_more: rows.length > limit };
}

/** GET /v1/files: newest first (or oldest with order=asc), keyset-paged after a file id. */
export async function listFiles(q: ListFilesQuery): Promise<ListPage<FileObject>> {
  let after: { createdAt: Date; id: string } | undefined;
  if (q.after) {
    const row = await findFile(q.after);
    if (!row) throw invalid("after", `No such File object: ${q.after}`);
    after = { createdAt: row.created_at, id: row.id };
  }
  const rows = await listOpenAIFiles(getPool(), { purpose: q.purpose, after, order: q.order, limit: q.limit + 1 });
  const page = listPage(rows, q.limit);
  return { ...page, data: page.data.map(toFileObject) };
}

/**
 * DELETE /v1/files/{id}: an input file goes with its dataset (409 while an unfinished batch reads it);
 * an output or error file is forgotten (its batch keeps its results).
 */
export async function deleteFile(id: string): Promise<{ id: string; object: "file"; deleted: true }> {
  const row = await getFileRow(id);
  if (row.kind === "input" && row.dataset_id) await deleteDataset(row.dataset_id);
  else await getPrisma().openAIFile.deleteMany({ where: { id } });
  return { id, object: "file", deleted: true };
}

const PAGE = 2000;

/** An input file's requests in source order, one JSON object per line, read a page at a time. */
async function* inputLines(datasetId: string): AsyncGenerator<string> {
  let after = -1;
  for (;;) {
    const rows = await inputRecordsAfter(getPool(), datasetId, after, PAGE);
    for (const r of rows) yield `${JSON.stringify(r.data)}\n`;
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!.position;
  }
}

/** GET /v1/files/{id}/content, streamed: memory stays bounded whatever the file's size. */
export async function fileContent(id: string): Promise<Response> {
  const row = await getFileRow(id);
  const lines = row.kind === "input" ? inputLines(row.dataset_id!) : outputLines(row.batch_id!, row.kind);
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let text = "";
        for (let i = 0; i < 256; i++) {
          const next = await lines.next();
          if (next.done) {
            if (text) controller.enqueue(encoder.encode(text));
            controller.close();
            return;
          }
          text += next.value;
        }
        controller.enqueue(encoder.encode(text));
      },
      async cancel() {
        await lines.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
  return new Response(stream, {
    headers: {
      "content-type": "application/octet-stream",
      "content-disposition": `attachment; filename="${row.filename.replace(/["\\]/g, "")}"`,
    },
  });
}
