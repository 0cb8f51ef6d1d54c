// Creating a batch (lib/engine/create-batch.ts) in one pg transaction: the batch row, its jobs and,
// for inline records, its dataset. SQL because the jobs are numbered where the records are (INSERT …
// SELECT with row_number() over md5(seed:position) COLLATE "C", never shipped to Node) or written by
// COPY FROM STDIN, the source dataset is held with FOR SHARE against a delete, and every statement
// runs on the import pool's client of that transaction (or of the second connection of a large
// inline batch), where Prisma Client has no place.
import type pg from "pg";
import { from as copyFrom, type CopyStreamQuery } from "pg-copy-streams";
import type { BatchRow } from "./batches";
import type { Queryable } from "./queryable";

/** The jobs of a dataset's records in run order (a selection: those of another batch's jobs in some statuses and/or listed ids), up to `cap`; how many. */
export async function insertJobsFromDataset(
  db: Queryable,
  j: { batchId: string; datasetId: string; seed: string | null; cap: number | null; onlyBatchId: string | null; onlyStatuses: string[] | null; onlyRecordIds: string[] | null },
): Promise<number> {
  await db.query("SET LOCAL work_mem = '64MB'");
  const inserted = await db.query(
    `INSERT INTO jobs (batch_id, record_id, ordinal, position)
     SELECT $1, record_id, (row_number() OVER run_order - 1)::int, position
     FROM dataset_records WHERE dataset_id = $2
       AND ($5::text IS NULL OR record_id IN (
             SELECT record_id FROM jobs WHERE batch_id = $5 AND ($6::job_status[] IS NULL OR status = ANY($6::job_status[]))))
       AND ($7::text[] IS NULL OR record_id = ANY($7::text[]))
     WINDOW run_order AS (ORDER BY md5($3::text || ':' || position) COLLATE "C", position)
     ORDER BY md5($3::text || ':' || position) COLLATE "C", position
     LIMIT $4::int`,
    [j.batchId, j.datasetId, j.seed, j.cap, j.onlyBatchId, j.onlyStatuses, j.onlyRecordIds],
  );
  return inserted.rowCount ?? 0;
}

/** A COPY of jobs rows (text format: batch_id, record_id, ordinal, position) to pipe into. */
export function copyJobRows(client: pg.ClientBase): CopyStreamQuery {
  return client.query(copyFrom("COPY jobs (batch_id, record_id, ordinal, position) FROM STDIN"));
}

/** The dataset named by id or name (the id first), held FOR SHARE until the transaction ends. */
export async function shareDatasetByRef(db: Queryable, ref: string): Promise<{ id: string; name: string; format: string | null; record_count: number } | undefined> {
  const { rows } = await db.query<{ id: string; name: string; format: string | null; record_count: number }>(
    `SELECT id, name, format, record_count FROM datasets WHERE id = $1 OR name = $1 ORDER BY (id = $1) DESC LIMIT 1 FOR SHARE`,
    [ref],
  );
  return rows[0];
}

export async function insertInlineDatasetRow(db: Queryable, id: string, name: string, idField: string | null): Promise<void> {
  await db.query(`INSERT INTO datasets (id, name, kind, format, id_field) VALUES ($1, $2, 'inline', 'inline', $3)`, [id, name, idField]);
}

export async function setDatasetSize(db: Queryable, id: string, recordCount: number, sizeBytes: number): Promise<void> {
  await db.query(`UPDATE datasets SET record_count = $2, size_bytes = $3 WHERE id = $1`, [id, recordCount, sizeBytes]);
}

export async function deleteDatasetRow(db: Queryable, id: string): Promise<void> {
  await db.query(`DELETE FROM datasets WHERE id = $1`, [id]);
}

/**
 * The batches row, its 32 columns in this order: id, name, flow, parameters (JSON text), dataset_id,
 * shuffle, seed, max_records, concurrency, error_policy, error_threshold_rate,
 * error_threshold_min_finished, interactive, max_retries, retry_backoff_ms, timeout_ms, max_cost,
 * priority, metadata (JSON text), webhook_url, dry_run, max_interruptions, cost_reservation,
 * cost_reservation_per_record, ttl_seconds, save_raw, cache, cache_max_age_seconds, cache_answers,
 * rate_limit (JSON text), rate_limit_key, chunk_size.
 */
export async function insertBatch(db: Queryable, values: unknown[]): Promise<void> {
  await db.query(
    `INSERT INTO batches (id, name, flow, parameters, dataset_id, shuffle, seed, max_records, concurrency, error_policy,
       error_threshold_rate, error_threshold_min_finished, interactive, max_retries, retry_backoff_ms, timeout_ms, max_cost,
       priority, metadata, webhook_url, dry_run, max_interruptions, cost_reservation, cost_reservation_per_record, ttl_seconds, save_raw,
       cache, cache_max_age_seconds, cache_answers, rate_limit, rate_limit_key, chunk_size)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32)`,
    values,
  );
}

/** Sets the batch's job count (all pending); the row. */
export async function setBatchTotal(db: Queryable, id: string, total: number): Promise<BatchRow> {
  const { rows } = await db.query<BatchRow>(`UPDATE batches SET total = $2, pending = $2 WHERE id = $1 RETURNING *`, [id, total]);
  return rows[0]!;
}

/**
 * The batch's row, read on the creating transaction's pg client before it commits (after reused
 * results moved its counters): Prisma Client runs on connections of its own, where the row does not
 * exist yet. Not a measurement: a visibility reason.
 */
export async function readBatchRowById(db: Queryable, id: string): Promise<BatchRow> {
  const { rows } = await db.query<BatchRow>(`SELECT * FROM batches WHERE id = $1`, [id]);
  return rows[0]!;
}
