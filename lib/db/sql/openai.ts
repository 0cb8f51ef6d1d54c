// The OpenAI-compatible /v1 files and batches (lib/openai). SQL because the rows are written inside
// the pg transactions that create a batch or an import (withTx, the import pool's client), expiry and
// windows are on the database's clock, the lists are keyset pages over (created_at, id) row
// comparisons, a batch is read joined with its batches row, and the input checks read jsonb fields of
// a file's records with an index-ordered LIMIT.
import type { BatchStatus } from "@/lib/contract/statuses";
import type { BatchJoinRow, FileRow } from "@/lib/openai/objects";
import type { Queryable } from "./queryable";

const FILE_COLUMNS = `id, kind, purpose, filename, bytes, created_at, expires_at, dataset_id, batch_id, line_count, problems, problem_count, line_breaks`;

const BATCH_JOIN = `SELECT b.id, b.status, b.stop_reason, b.total, b.succeeded, b.failed, b.metadata, b.created_at, b.completed_at,
  o.input_file_id, o.endpoint, o.completion_window, o.expires_at, o.model, o.errors, o.output_file_id, o.error_file_id,
  o.finalized_at, o.finalized_for, o.usage
  FROM openai_batches o JOIN batches b ON b.id = o.batch_id`;

// ---- files

export async function findOpenAIFile(db: Queryable, id: string): Promise<FileRow | null> {
  const { rows } = await db.query<FileRow>(`SELECT ${FILE_COLUMNS} FROM openai_files WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

export interface InputFileRow {
  id: string;
  filename: string;
  bytes: number;
  /** seconds from now until it expires; null: never */
  expiresInSeconds: number | null;
  datasetId: string;
  lineCount: number;
  problems: unknown;
  problemCount: number;
  lineBreaks: unknown;
}

/** An uploaded input file's row, in the import's transaction. */
export async function insertInputFile(db: Queryable, f: InputFileRow): Promise<FileRow> {
  const { rows } = await db.query<FileRow>(
    `INSERT INTO openai_files (id, kind, purpose, filename, bytes, expires_at, dataset_id, line_count, problems, problem_count, line_breaks)
     VALUES ($1, 'input', 'batch', $2, $3, CASE WHEN $4::int IS NULL THEN NULL ELSE now() + make_interval(secs => $4::int) END, $5, $6, $7, $8, $9)
     RETURNING ${FILE_COLUMNS}`,
    [f.id, f.filename, f.bytes, f.expiresInSeconds, f.datasetId, f.lineCount, JSON.stringify(f.problems), f.problemCount, JSON.stringify(f.lineBreaks)],
  );
  return rows[0]!;
}

/** A page of files (limit rows), newest first or oldest, after (created_at, id) when given, of one purpose when given. */
export async function listOpenAIFiles(
  db: Queryable,
  q: { purpose?: string; after?: { createdAt: Date; id: string }; order: "asc" | "desc"; limit: number },
): Promise<FileRow[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (q.purpose) {
    params.push(q.purpose);
    where.push(`purpose = $${params.length}`);
  }
  const dir = q.order === "asc" ? ">" : "<";
  if (q.after) {
    params.push(q.after.createdAt, q.after.id);
    where.push(`(created_at, id) ${dir} ($${params.length - 1}, $${params.length})`);
  }
  params.push(q.limit);
  const order = q.order === "asc" ? "ASC" : "DESC";
  const { rows } = await db.query<FileRow>(
    `SELECT ${FILE_COLUMNS} FROM openai_files ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
     ORDER BY created_at ${order}, id ${order} LIMIT $${params.length}`,
    params,
  );
  return rows;
}

/** Up to `limit` records of an input file's dataset after `after`, in source order. */
export async function inputRecordsAfter(db: Queryable, datasetId: string, after: number, limit: number): Promise<{ position: number; data: unknown }[]> {
  const { rows } = await db.query<{ position: number; data: unknown }>(
    `SELECT position, data FROM dataset_records WHERE dataset_id = $1 AND position > $2 ORDER BY position LIMIT $3`,
    [datasetId, after, limit],
  );
  return rows;
}

/** The datasets of up to `limit` input files past their expires_at, soonest first. */
export async function expiredInputFiles(db: Queryable, limit: number): Promise<{ dataset_id: string }[]> {
  const { rows } = await db.query<{ dataset_id: string }>(
    `SELECT dataset_id FROM openai_files WHERE kind = 'input' AND expires_at < now() ORDER BY expires_at LIMIT $1`,
    [limit],
  );
  return rows;
}

// ---- batches

export async function getOpenAIBatchRow(db: Queryable, batchId: string): Promise<BatchJoinRow | undefined> {
  const { rows } = await db.query<BatchJoinRow>(`${BATCH_JOIN} WHERE o.batch_id = $1`, [batchId]);
  return rows[0];
}

/** A page of /v1 batches (limit rows), newest first, after (created_at, batch_id) when given. */
export async function listOpenAIBatchRows(db: Queryable, after: { createdAt: Date; id: string } | null, limit: number): Promise<BatchJoinRow[]> {
  const { rows } = after
    ? await db.query<BatchJoinRow>(`${BATCH_JOIN} WHERE (o.created_at, o.batch_id) < ($1, $2) ORDER BY o.created_at DESC, o.batch_id DESC LIMIT $3`, [after.createdAt, after.id, limit])
    : await db.query<BatchJoinRow>(`${BATCH_JOIN}  ORDER BY o.created_at DESC, o.batch_id DESC LIMIT $1`, [limit]);
  return rows;
}

/** Hands batches counted for an earlier completion back to the sweep. */
export async function unfinalizeOpenAIBatches(db: Queryable, batchIds: string[]): Promise<void> {
  await db.query(`UPDATE openai_batches SET finalized_at = NULL WHERE batch_id = ANY($1::text[])`, [batchIds]);
}

/** Positions of up to `limit` requests whose url is not `endpoint`, in order. */
export async function mismatchedUrls(db: Queryable, datasetId: string | null, endpoint: string, limit: number): Promise<{ position: number }[]> {
  const { rows } = await db.query<{ position: number }>(
    `SELECT position FROM dataset_records WHERE dataset_id = $1 AND data->>'url' IS DISTINCT FROM $2 ORDER BY position LIMIT $3`,
    [datasetId, endpoint, limit],
  );
  return rows;
}

/** Up to two distinct body.model values of a file's requests (one: the batch's model). */
export async function requestModels(db: Queryable, datasetId: string | null): Promise<{ model: string | null }[]> {
  const { rows } = await db.query<{ model: string | null }>(
    `SELECT DISTINCT data->'body'->>'model' AS model FROM dataset_records WHERE dataset_id = $1 LIMIT 2`,
    [datasetId],
  );
  return rows;
}

/** The openai_batches row of a batch just created (in its transaction); finalized at once when it has errors. */
export async function insertOpenAIBatch(
  db: Queryable,
  r: { batchId: string; inputFileId: string; endpoint: string; completionWindow: string; hours: number; model: string | null; errors: unknown[] | null },
): Promise<void> {
  await db.query(
    `INSERT INTO openai_batches (batch_id, input_file_id, endpoint, completion_window, expires_at, model, errors, created_at,
       finalized_at, finalized_for)
     SELECT b.id, $2, $3, $4, b.created_at + make_interval(hours => $5), $6, $7, b.created_at,
       CASE WHEN $7::jsonb IS NULL THEN NULL ELSE now() END, CASE WHEN $7::jsonb IS NULL THEN NULL ELSE b.completed_at END
     FROM batches b WHERE b.id = $1`,
    [r.batchId, r.inputFileId, r.endpoint, r.completionWindow, r.hours, r.model, r.errors ? JSON.stringify(r.errors) : null],
  );
}

/** The batches row of a /v1 batch that failed validation: failed, no jobs. */
export async function insertFailedOpenAIBatch(
  db: Queryable,
  b: { id: string; name: string; parameters: unknown; datasetId: string | null; concurrency: number; maxRetries: number; metadata: unknown },
): Promise<void> {
  await db.query(
    `INSERT INTO batches (id, name, flow, parameters, dataset_id, status, stop_reason, shuffle, concurrency, max_retries, metadata, completed_at)
     VALUES ($1, $2, 'openai', $3, $4, 'failed', 'validation_failed', false, $5, $6, $7, now())`,
    [b.id, b.name, JSON.stringify(b.parameters), b.datasetId, b.concurrency, b.maxRetries, JSON.stringify(b.metadata)],
  );
}

// ---- the sweep (lib/openai/sweep.ts)

/** Ends a /v1 batch as expired (its jobs already moved, in the caller's transaction). */
export async function markOpenAIBatchExpired(db: Queryable, batchId: string): Promise<void> {
  await db.query(
    `UPDATE batches SET status = 'cancelled', stop_reason = 'expired', completed_at = now(), updated_at = now(),
       webhook_state = CASE WHEN webhook_url IS NOT NULL THEN 'pending' END, webhook_next_at = now()
     WHERE id = $1`,
    [batchId],
  );
}

/**
 * A batch's completion time and status. SQL, not Prisma Client: the /v1 sweep calls it from the
 * worker's maintenance, and loading Prisma's engine there doubled the worker's RSS (108 -> 220 MB).
 */
export async function batchCompletion(db: Queryable, batchId: string): Promise<{ completed_at: Date | null; status: BatchStatus } | undefined> {
  const { rows } = await db.query<{ completed_at: Date | null; status: BatchStatus }>(`SELECT completed_at, status FROM batches WHERE id = $1`, [batchId]);
  return rows[0];
}

/** Locks a /v1 batch and its batches row while it is still the completion `completedAt`; its files then. */
export async function lockOpenAIBatchForCompletion(
  db: Queryable,
  batchId: string,
  completedAt: Date,
): Promise<{ output_file_id: string | null; error_file_id: string | null } | undefined> {
  const { rows } = await db.query<{ output_file_id: string | null; error_file_id: string | null }>(
    `SELECT o.output_file_id, o.error_file_id FROM openai_batches o JOIN batches b ON b.id = o.batch_id
     WHERE o.batch_id = $1 AND b.completed_at = $2 FOR UPDATE OF o, b`,
    [batchId, completedAt],
  );
  return rows[0];
}

export async function deleteOpenAIFile(db: Queryable, id: string): Promise<void> {
  await db.query(`DELETE FROM openai_files WHERE id = $1`, [id]);
}

/** Records a new count of an output or error file; false when the file is gone. */
export async function recountOutputFile(db: Queryable, id: string, bytes: number, countedFor: Date): Promise<boolean> {
  const { rowCount } = await db.query(`UPDATE openai_files SET bytes = $2, counted_for = $3 WHERE id = $1`, [id, bytes, countedFor]);
  return !!rowCount;
}

export async function insertOutputFile(
  db: Queryable,
  f: { id: string; kind: "output" | "error"; filename: string; bytes: number; batchId: string; countedFor: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO openai_files (id, kind, purpose, filename, bytes, batch_id, counted_for) VALUES ($1, $2, 'batch_output', $3, $4, $5, $6)`,
    [f.id, f.kind, f.filename, f.bytes, f.batchId, f.countedFor],
  );
}

export async function finalizeOpenAIBatch(
  db: Queryable,
  f: { batchId: string; outputFileId: string | null; errorFileId: string | null; usage: unknown; completedAt: Date },
): Promise<void> {
  await db.query(
    `UPDATE openai_batches SET output_file_id = $2, error_file_id = $3, usage = $4, finalized_at = now(), finalized_for = $5 WHERE batch_id = $1`,
    [f.batchId, f.outputFileId, f.errorFileId, JSON.stringify(f.usage), f.completedAt],
  );
}

/** Finished /v1 batches run again since they were counted: counted again. */
export async function unfinalizeRerunOpenAIBatches(db: Queryable): Promise<void> {
  await db.query(
    `UPDATE openai_batches o SET finalized_at = NULL FROM batches b
     WHERE b.id = o.batch_id AND o.finalized_at IS NOT NULL AND o.errors IS NULL AND b.completed_at IS DISTINCT FROM o.finalized_for`,
  );
}

/** Up to `limit` /v1 batches due: past their window, or finished and not yet counted. */
export async function dueOpenAIBatches(db: Queryable, limit: number): Promise<{ batch_id: string; status: BatchStatus; due: boolean }[]> {
  const { rows } = await db.query<{ batch_id: string; status: BatchStatus; due: boolean }>(
    `SELECT o.batch_id, b.status, o.expires_at <= now() AS due FROM openai_batches o JOIN batches b ON b.id = o.batch_id
     WHERE o.finalized_at IS NULL AND (o.expires_at <= now() OR b.status NOT IN ('pending', 'running', 'paused'))
     ORDER BY o.expires_at LIMIT $1`,
    [limit],
  );
  return rows;
}
