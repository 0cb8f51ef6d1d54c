// The overview sums, the per-flow counters and a batch's metrics over time. SQL because they are
// aggregates: FILTER, date_trunc, unnest WITH ORDINALITY over the duration histograms, percentile_cont,
// and the expiry by the database's clock (batchExpiredSql), none of which Prisma Client can say.
import type { BatchStatus } from "@/lib/contract/statuses";
import { batchExpiredSql } from "./batches";
import type { Queryable } from "./queryable";

/** The job counters summed over the batches not expired, by status, and the queue depth. */
export async function jobSums(db: Queryable): Promise<Record<string, number>> {
  const { rows } = await db.query<Record<string, number>>(
    `SELECT COALESCE(sum(pending), 0)::int AS pending, COALESCE(sum(running), 0)::int AS running,
            COALESCE(sum(waiting_input), 0)::int AS waiting_input,
            COALESCE(sum(waiting_provider), 0)::int AS waiting_provider, COALESCE(sum(succeeded), 0)::int AS succeeded,
            COALESCE(sum(failed), 0)::int AS failed, COALESCE(sum(cancelled), 0)::int AS cancelled,
            COALESCE(sum(skipped), 0)::int AS skipped,
            COALESCE(sum(pending) FILTER (WHERE status IN ('pending', 'running')), 0)::int AS queue_depth
     FROM batches b WHERE NOT ${batchExpiredSql()}`,
  );
  return rows[0]!;
}

/** How many batches not expired are in each status. */
export async function batchesByStatus(db: Queryable): Promise<{ status: BatchStatus; n: number }[]> {
  const { rows } = await db.query<{ status: BatchStatus; n: number }>(`SELECT status, count(*)::int AS n FROM batches b WHERE NOT ${batchExpiredSql()} GROUP BY status`);
  return rows;
}

/** Jobs finished in the last 1, 5 and 60 minutes. */
export async function finishedLastHour(db: Queryable): Promise<{ m1: number; m5: number; m60: number }> {
  const { rows } = await db.query<{ m1: number; m5: number; m60: number }>(
    `SELECT COALESCE(sum(succeeded + failed) FILTER (WHERE bucket > now() - interval '1 minute'), 0)::float8 AS m1,
            COALESCE(sum(succeeded + failed) FILTER (WHERE bucket > now() - interval '5 minutes'), 0)::float8 AS m5,
            COALESCE(sum(succeeded + failed), 0)::float8 AS m60
     FROM batch_metrics WHERE bucket > now() - interval '60 minutes'`,
  );
  return rows[0]!;
}

/** Jobs finished per minute over the last hour. */
export async function finishedPerMinute(db: Queryable): Promise<{ t: Date; succeeded: number; failed: number }[]> {
  const { rows } = await db.query<{ t: Date; succeeded: number; failed: number }>(
    `SELECT date_trunc('minute', bucket) AS t, sum(succeeded)::int AS succeeded, sum(failed)::int AS failed
     FROM batch_metrics WHERE bucket > now() - interval '60 minutes' GROUP BY 1 ORDER BY 1`,
  );
  return rows;
}

export interface FlowCounterRow {
  flow: string;
  succeeded: number;
  failed: number;
  cancelled: number;
  skipped: number;
  attempts: number;
  interruptions: number;
  cost: number;
  duration_sum_ms: number;
  duration_hist: number[] | null;
}

/**
 * Per flow: sums over the batches plus flow_totals, which keeps what left the batches' counters
 * (deleted batches, finishes a manual retry moved back to pending). One statement, one snapshot.
 */
export async function flowCounters(db: Queryable): Promise<FlowCounterRow[]> {
  const { rows } = await db.query<FlowCounterRow>(
    `WITH counted AS (
       SELECT flow, succeeded, failed, cancelled, skipped, attempts, interruptions, cost_spent AS cost, duration_sum_ms,
              duration_hist::bigint[] AS duration_hist
       FROM batches
       UNION ALL
       SELECT flow, succeeded, failed, cancelled, skipped, attempts, interruptions, cost, duration_sum_ms, duration_hist FROM flow_totals),
     hist AS (
       SELECT flow, array_agg(n ORDER BY slot) AS duration_hist FROM (
         SELECT counted.flow, h.slot, sum(h.n)::float8 AS n
         FROM counted, unnest(counted.duration_hist) WITH ORDINALITY AS h(n, slot) GROUP BY counted.flow, h.slot) slots
       GROUP BY flow)
     SELECT totals.*, hist.duration_hist FROM (
       SELECT flow, sum(succeeded)::float8 AS succeeded, sum(failed)::float8 AS failed, sum(cancelled)::float8 AS cancelled,
              sum(skipped)::float8 AS skipped, sum(attempts)::float8 AS attempts, sum(interruptions)::float8 AS interruptions,
              sum(cost)::float8 AS cost, sum(duration_sum_ms)::float8 AS duration_sum_ms
       FROM counted GROUP BY flow) totals
     LEFT JOIN hist ON hist.flow = totals.flow
     ORDER BY totals.flow`,
  );
  return rows;
}

// ---- a batch's metrics over time (lib/engine/metrics.ts)

/** Exact p50 and p95 durations of the attempts that finished their job, per `width`-second bucket from `fromMs` on. */
export async function attemptPercentiles(db: Queryable, batchId: string, width: number, fromMs: number): Promise<{ t: number; p50: number; p95: number }[]> {
  const { rows } = await db.query<{ t: number; p50: number; p95: number }>(
    `SELECT floor(extract(epoch FROM finished_at) / $2)::float8 * $2 * 1000 AS t,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95
     FROM job_attempts WHERE batch_id = $1 AND finished_at >= to_timestamp($3::float8 / 1000)
       AND outcome IN ('succeeded', 'failed') AND duration_ms IS NOT NULL
     GROUP BY 1`,
    [batchId, width, fromMs],
  );
  return rows;
}

/** A batch not expired: when it was created and completed, and the database's now(). */
export async function batchSpan(db: Queryable, batchId: string): Promise<{ created_at: Date; completed_at: Date | null; now: Date } | undefined> {
  const { rows } = await db.query<{ created_at: Date; completed_at: Date | null; now: Date }>(
    `SELECT created_at, completed_at, now() AS now FROM batches b WHERE id = $1 AND NOT ${batchExpiredSql()}`,
    [batchId],
  );
  return rows[0];
}

export interface MetricRow {
  bucket: Date;
  succeeded: number;
  failed: number;
  cost: number;
  duration_hist: number[] | null;
}

/** A batch's per-second metrics rows, in order. */
export async function batchMetricRows(db: Queryable, batchId: string): Promise<MetricRow[]> {
  const { rows } = await db.query<MetricRow>(
    `SELECT bucket, succeeded, failed, cost, duration_hist FROM batch_metrics WHERE batch_id = $1 ORDER BY bucket`,
    [batchId],
  );
  return rows;
}
