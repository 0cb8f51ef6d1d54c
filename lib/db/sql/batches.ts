// Batch statements that stay SQL (docs/architecture.md "Data access"): the expiry by the database's
// clock and the rate over the last minute of batch_metrics are expressions of the statements that read
// a batch, and the actions take the batch's row lock first (lock order: batches before jobs) and move
// its counters in the same transaction as the cycle's own updates.
import type { BatchStatus } from "@/lib/contract/statuses";
import type { Batch as BatchModel } from "@/lib/generated/prisma/client";
import type { RowOf } from "../rows";
import { callsLeftSql } from "./calls";
import type { Queryable } from "./queryable";
import type { CounterMove } from "./transitions";

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

// ---- the batches list (lib/engine/list-batches.ts): keyset pages over (sort key, id), where the key
// may be computed (progress, cost, rate), and `q` searches metadata::text

export type BatchListSort = "created" | "progress" | "cost" | "rate";

/**
 * The numeric sort keys as SQL over `b`, never null (a batch without a rate sorts as -1, below 0),
 * so a (key, id) row comparison orders every batch. progress is the API's progress.percent / 100.
 */
const NUMERIC_KEYS: Record<Exclude<BatchListSort, "created">, string> = {
  progress: `(CASE WHEN b.total > 0 THEN (b.succeeded + b.failed + b.cancelled + b.skipped)::float8 / b.total
              WHEN b.status IN ('completed', 'failed', 'cancelled') THEN 1 ELSE 0 END)`,
  cost: `b.cost_spent::float8`,
  rate: `COALESCE(${BATCH_RATE_SQL}, -1)`,
};

export interface BatchListQuery {
  status?: string[];
  flow?: string;
  parent?: string;
  /** an ILIKE pattern over id, name and metadata::text (escaped by the caller) */
  pattern?: string;
  sort: BatchListSort;
  descending: boolean;
  /** the last row of the previous page: its created_at (sort "created") or its sort key, and its id */
  after?: { key: Date | number; id: string };
  /** rows to read (the caller asks one more than a page, to know whether another follows) */
  limit: number;
}

/** A page of the batches not expired, with each row's sort key, and how many match the filter. */
export async function listBatchRows(db: Queryable, o: BatchListQuery): Promise<{ rows: (BatchRow & { sort_key: number })[]; total: number }> {
  const dir = o.descending ? "DESC" : "ASC";
  const where: string[] = [`NOT ${batchExpiredSql()}`];
  const params: unknown[] = [];
  const add = (sql: (n: string) => string, v: unknown) => {
    params.push(v);
    where.push(sql(`$${params.length}`));
  };
  if (o.status?.length) add((p) => `b.status = ANY(${p}::batch_status[])`, o.status);
  if (o.flow) add((p) => `b.flow = ${p}`, o.flow);
  if (o.parent) add((p) => `b.parent_id = ${p}`, o.parent);
  if (o.pattern) add((p) => `(b.id ILIKE ${p} OR b.name ILIKE ${p} OR b.metadata::text ILIKE ${p})`, o.pattern);
  const filterSql = `WHERE ${where.join(" AND ")}`;
  const filterParams = [...params];

  const key = o.sort === "created" ? "b.created_at" : NUMERIC_KEYS[o.sort];
  const after = o.descending ? "<" : ">";
  if (o.after) {
    params.push(o.after.key, o.after.id);
    where.push(o.sort === "created" ? `(b.created_at, b.id) ${after} ($${params.length - 1}, $${params.length})` : `(${key}, b.id) ${after} ($${params.length - 1}::float8, $${params.length})`);
  }
  params.push(o.limit);
  const [page, count] = await Promise.all([
    db.query<BatchRow & { sort_key: number }>(
      `SELECT ${BATCH_SELECT}, ${o.sort === "created" ? "0" : key} AS sort_key FROM batches b WHERE ${where.join(" AND ")}
       ORDER BY ${key} ${dir}, b.id ${dir} LIMIT $${params.length}`,
      params,
    ),
    db.query<{ n: number }>(`SELECT count(*)::int AS n FROM batches b ${filterSql}`, filterParams),
  ]);
  return { rows: page.rows, total: count.rows[0]?.n ?? 0 };
}

// ---- one batch and the batch-level actions (lib/engine/batches.ts)

/** One batch not expired, with its rate. */
export async function readBatchRow(db: Queryable, id: string): Promise<BatchRow | undefined> {
  const { rows } = await db.query<BatchRow>(`SELECT ${BATCH_SELECT} FROM batches b WHERE b.id = $1 AND NOT ${batchExpiredSql()}`, [id]);
  return rows[0];
}

/** Locks a batch not expired (lock order: batches before jobs). */
export async function lockBatchRow(db: Queryable, id: string): Promise<BatchRow | undefined> {
  const { rows } = await db.query<BatchRow>(`SELECT * FROM batches WHERE id = $1 AND NOT ${batchExpiredSql("batches")} FOR UPDATE`, [id]);
  return rows[0];
}

/** Ends a locked batch as cancelled, with the share of records processed before the cancel. */
export async function markBatchCancelled(db: Queryable, id: string): Promise<void> {
  await db.query(
    `UPDATE batches SET status = 'cancelled', stop_reason = 'cancelled', completed_at = now(), updated_at = now(),
       stop_detail = jsonb_build_object('reason', 'cancelled', 'processed', succeeded + failed, 'total', total),
       webhook_state = CASE WHEN webhook_url IS NOT NULL THEN 'pending' END, webhook_next_at = now()
     WHERE id = $1`,
    [id],
  );
}

export async function setBatchStatus(db: Queryable, id: string, status: "paused" | "pending" | "running"): Promise<void> {
  await db.query(`UPDATE batches SET status = $2::batch_status, updated_at = now() WHERE id = $1`, [id, status]);
}

/**
 * Makes the jobs of a batch that workers reserved ahead (not started) pending again, their attempt not
 * counted (out of their calls, if any: the caller holds the batch row); found through the workers'
 * in_flight lists (a reservation is always of a non-chunked batch: a chunked one takes none). The
 * counter moves.
 */
export async function takeBackReservedJobs(db: Queryable, batchId: string): Promise<Required<CounterMove>[]> {
  const { rows } = await db.query<Required<CounterMove>>(
    `WITH t AS (
       SELECT j.id FROM workers w CROSS JOIN LATERAL unnest(w.in_flight) AS f(id) JOIN jobs j ON j.id = f.id
       WHERE j.batch_id = $1 AND j.status = 'running' AND j.started_at IS NULL
       ORDER BY j.id FOR UPDATE OF j),
     u AS (
       UPDATE jobs j SET status = 'pending', attempts = j.attempts - 1, lease_owner = NULL, lease_expires_at = NULL, run_at = now()
       FROM t WHERE j.id = t.id AND j.status = 'running' AND j.started_at IS NULL
       RETURNING j.id, j.run_at, j.batch_id, j.call_id, job_counter('running', false) AS from_counter, job_counter(j.status, j.started_at IS NOT NULL) AS to_counter),
     calls AS (${callsLeftSql("u")}),
     requeue AS (
       INSERT INTO requeued_jobs (job_id, batch_id, run_at) SELECT id, $1, run_at FROM u ORDER BY id
       ON CONFLICT (job_id) DO UPDATE SET run_at = excluded.run_at)
     SELECT batch_id, from_counter, to_counter, count(*)::int AS jobs FROM u GROUP BY batch_id, from_counter, to_counter`,
    [batchId],
  );
  return rows;
}

/**
 * Makes the batch's jobs in `statuses` (all, or those of `jobIds`) pending again with a fresh retry
 * allowance; the counter moves (finished statuses: each counter is its status).
 */
export async function requeueBatchJobs(db: Queryable, batchId: string, statuses: string[], jobIds: number[] | null): Promise<Required<CounterMove>[]> {
  const { rows } = await db.query<Required<CounterMove>>(
    `WITH t AS (SELECT id, job_counter(status, started_at IS NOT NULL) AS old FROM jobs WHERE batch_id = $1 AND status = ANY($2::job_status[])
                  AND ($3::bigint[] IS NULL OR id = ANY($3::bigint[])) ORDER BY id FOR UPDATE),
     u AS (UPDATE jobs j SET status = 'pending', retry_base = j.attempts, interruptions = 0, run_at = now(), result = NULL, error_code = NULL,
             error_message = NULL, error_retryable = NULL, started_at = NULL, finished_at = NULL, duration_ms = NULL,
             lease_owner = NULL, lease_expires_at = NULL
           FROM t WHERE j.id = t.id RETURNING j.id, j.run_at, j.batch_id, t.old, job_counter(j.status, j.started_at IS NOT NULL) AS to_counter),
     requeue AS (
       INSERT INTO requeued_jobs (job_id, batch_id, run_at) SELECT id, $1, run_at FROM u ORDER BY id
       ON CONFLICT (job_id) DO UPDATE SET run_at = excluded.run_at)
     SELECT batch_id, old AS from_counter, to_counter, count(*)::int AS jobs FROM u GROUP BY batch_id, old, to_counter`,
    [batchId, statuses, jobIds],
  );
  return rows;
}

/** Adds finishes that left a batch's counters to its flow's all-time totals (a counter never goes down). */
export async function addToFlowTotals(db: Queryable, flow: string, n: { failed: number; cancelled: number; skipped: number }): Promise<void> {
  await db.query(
    `INSERT INTO flow_totals AS t (flow, failed, cancelled, skipped) VALUES ($1, $2, $3, $4)
     ON CONFLICT (flow) DO UPDATE SET failed = t.failed + excluded.failed, cancelled = t.cancelled + excluded.cancelled,
       skipped = t.skipped + excluded.skipped`,
    [flow, n.failed, n.cancelled, n.skipped],
  );
}

/** Deletes the cancelled prompts of the batch's jobs now pending (all, or those of `jobIds`): re-running asks again. */
export async function deleteRequeuedPrompts(db: Queryable, batchId: string, jobIds: number[] | null): Promise<void> {
  await db.query(
    `DELETE FROM prompts WHERE batch_id = $1 AND status = 'cancelled' AND job_id IN
       (SELECT id FROM jobs WHERE batch_id = $1 AND status = 'pending' AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[])))`,
    [batchId, jobIds],
  );
}

/** Runs a finished batch again: pending or running (as it had started), its stop and webhook state cleared. */
export async function reopenBatch(db: Queryable, batchId: string): Promise<void> {
  await db.query(
    `UPDATE batches SET status = (CASE WHEN started_at IS NULL THEN 'pending' ELSE 'running' END)::batch_status,
       stop_reason = NULL, stop_detail = NULL, completed_at = NULL, updated_at = now(),
       webhook_state = NULL, webhook_attempts = 0, webhook_next_at = NULL, webhook_last_error = NULL, webhook_delivered_at = NULL
     WHERE id = $1`,
    [batchId],
  );
}

export async function clearBatchStop(db: Queryable, batchId: string): Promise<void> {
  await db.query(`UPDATE batches SET stop_reason = NULL, stop_detail = NULL WHERE id = $1`, [batchId]);
}

export async function batchStatus(db: Queryable, batchId: string): Promise<BatchStatus> {
  const { rows } = await db.query<{ status: BatchStatus }>(`SELECT status FROM batches WHERE id = $1`, [batchId]);
  return rows[0]!.status;
}
