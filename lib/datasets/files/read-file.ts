// Reading a file record's bytes back: a few chunks per query, in order, so a download or a flow holds
// at most those chunks (a flow that needs the whole file, to send it to a model, holds one file).
import { getPool } from "@/lib/db/client";
import { batchDatasetId, fileChunksAfter } from "@/lib/db/sql/datasets";
import type { Queryable } from "@/lib/db/sql/queryable";
import { AppError } from "@/lib/errors";
import type { FileRecord } from "./types";

const CHUNKS_PER_QUERY = 4;

/** The file's bytes chunk by chunk. */
export async function* fileChunks(datasetId: string, position: number, db: Queryable = getPool()): AsyncGenerator<Buffer> {
  let after = -1;
  for (;;) {
    const rows = await fileChunksAfter(db, datasetId, position, after, CHUNKS_PER_QUERY);
    for (const r of rows) yield r.data;
    if (rows.length < CHUNKS_PER_QUERY) return;
    after = rows[rows.length - 1]!.chunk;
  }
}

/** The whole file, refused past maxBytes (what a flow may hold of one record). */
export async function readFileBytes(datasetId: string, position: number, maxBytes: number, db?: Queryable): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of fileChunks(datasetId, position, db)) {
    size += c.length;
    if (size > maxBytes) throw new AppError("payload_too_large", `the file is larger than ${maxBytes} bytes`);
    parts.push(c);
  }
  return Buffer.concat(parts);
}

/**
 * The file of a batch's record, by the batch's dataset and the record's position (what a flow
 * knows), refused past maxBytes as it is read.
 */
export async function readBatchRecordFile(batchId: string, position: number, maxBytes: number, db: Queryable = getPool()): Promise<Buffer> {
  const datasetId = await batchDatasetId(db, batchId);
  if (!datasetId) throw new AppError("not_found", `batch ${JSON.stringify(batchId)} has no dataset`);
  return readFileBytes(datasetId, position, maxBytes, db);
}

/** Whether a record's data is a file record of a dataset of files. */
export function asFileRecord(data: unknown): FileRecord | null {
  const d = data as Partial<FileRecord> | null;
  if (!d || typeof d !== "object" || typeof d.id !== "string" || typeof d.content_type !== "string" || typeof d.bytes !== "number") return null;
  return d as FileRecord;
}
