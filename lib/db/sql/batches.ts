// Batch statements that stay SQL (docs/architecture.md "Data access"): the expiry by the database's
// clock and the rate over the last minute of batch_metrics are expressions of the statements that read
// a batch, and the actions take the batch's row lock first (lock order: batches before jobs) and move
// its counters in the same transaction as the cycle's own updates.
import type { Batch as BatchModel } from "@/lib/generated/prisma/client";
import type { RowOf } from "../rows";
import type { Queryable } from "./queryable";

/** A batches row from SQL, typed by the Prisma model; with BATCH_SELECT, its rate too. */
export type BatchRow = RowOf<BatchModel> & { items_per_second?: number | null };

/**
 * A finished batch whose own ttl_seconds have passed, as SQL over the batches row `b`: gone for every
 * read and action at once, whether or not the retention sweep has deleted it yet.
 */
export const batchExpiredSql = (b = "b") =>
  `(${b}.status IN ('completed', 'failed', 'cancelled') AND ${b}.ttl_seconds IS NOT NULL
    AND COALESCE(${b}.completed_at, ${b}.updated_at) + make_interval(secs => ${b}.ttl_seconds) <= now())`;

/**
 * A batch's rate in jobs per second, as SQL over the batches row `b`: over its whole run once finished,
 * over the last minute (its completions in batch_metrics) while it runs; null before a job the flow
 * ran has finished (a reused result, options.cache, took no time). The list sorts by the same figure.
 */
export const BATCH_RATE_SQL = `(CASE
  WHEN b.started_at IS NULL OR b.succeeded + b.failed - b.cached <= 0 THEN NULL
  WHEN b.completed_at IS NOT NULL THEN
    (b.succeeded + b.failed - b.cached)::float8 / greatest(extract(epoch FROM b.completed_at - b.started_at)::float8, 0.001)
  ELSE COALESCE((SELECT sum(m.succeeded + m.failed) FROM batch_metrics m WHERE m.batch_id = b.id AND m.bucket > now() - interval '60 seconds'), 0)::float8
    / least(60, greatest(extract(epoch FROM now() - b.started_at)::float8, 1))
END)`;

/** SELECT list for a batch plus its rate (items/s), for `FROM batches b`. */
export const BATCH_SELECT = `b.*, ${BATCH_RATE_SQL} AS items_per_second`;


/** Records the batch `batchId` was run again from, in the creating transaction. */
export async function setBatchParent(db: Queryable, batchId: string, parentId: string): Promise<void> {
  await db.query(`UPDATE batches SET parent_id = $2 WHERE id = $1`, [batchId, parentId]);
}

/** Deletes a locked batch (its jobs, prompts, metrics and attempts go by foreign keys and the batches_deleted trigger), leaving its final status on its adapter_jobs row. */
export async function deleteBatchRow(db: Queryable, batchId: string, finalStatus: string): Promise<void> {
  // a batch of a compatible job API leaves its final status behind (the API's all-time counts)
  await db.query(`UPDATE adapter_jobs SET final_status = $2 WHERE batch_id = $1`, [batchId, finalStatus]);
  await db.query(`DELETE FROM batches WHERE id = $1`, [batchId]);
}

/** Deletes the inline datasets named (`inline:<batch id>`) that no batch uses any more. */
export async function deleteUnusedInlineDatasets(db: Queryable, names: string[]): Promise<void> {
  await db.query(
    `DELETE FROM datasets d WHERE d.kind = 'inline' AND d.name = ANY($1::text[])
       AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.dataset_id = d.id)`,
    [names],
  );
}

/** Deletes the rate limits of the keys given. */
export async function deleteRateLimits(db: Queryable, keys: string[]): Promise<void> {
  await db.query(`DELETE FROM rate_limits WHERE key = ANY($1::text[])`, [keys]);
}
