// Writing many attempt outcomes in ONE transaction: one UPDATE over unnest() arrays for the jobs, one
// for the batch counters, one upsert for the per-second metrics. The job UPDATE is fenced: it only
// matches a job still running under this worker's lease for this very attempt, so a late write from a
// worker that lost its lease (expired, cancelled, stopped) changes nothing.
import type pg from "pg";
import { DURATION_BOUNDS_MS, HISTOGRAM_SIZE } from "./metrics";
import { wakeJobs } from "./prompts";
import { applyDeltas, Deltas, settleBatches, type Settled } from "./transitions";
import type { JobStatus } from "./types";

export interface Outcome {
  id: number;
  batchId: string;
  attempts: number;
  /** succeeded / failed for good; pending = retry (after delayMs) or release; waiting_input = parked on a prompt */
  status: "succeeded" | "failed" | "pending" | "waiting_input";
  /** give the attempt back (graceful shutdown): the attempt does not count */
  release?: boolean;
  result?: string | null;
  error?: { code: string; message: string; retryable: boolean } | null;
  cost: number;
  logs: string | null;
  delayMs: number;
  durationMs: number;
}

export interface FlushResult {
  /** outcomes the fence accepted */
  applied: number;
  settled: Settled[];
}

// bucket thresholds for width_bucket(): ms <= bound[i] <=> ms < bound[i] + 1, so the SQL bucket of a
// duration equals durationBucket() in ./metrics (integer milliseconds)
const HIST_THRESHOLDS = DURATION_BOUNDS_MS.map((b) => b + 1);

/**
 * One statement: the fenced job UPDATE, and the per-second metrics (counts, cost, duration histogram)
 * upserted from what it changed. Then the counters (one UPDATE) and the batch checks.
 */
export async function writeOutcomes(client: pg.ClientBase, owner: string, outcomes: Outcome[]): Promise<FlushResult> {
  const { rows } = await client.query<{ id: number; batch_id: string; status: JobStatus; cost: number }>({
    name: "batchboard_write_outcomes",
    text: `WITH input AS (
       SELECT * FROM unnest($1::bigint[], $2::int[], $3::job_status[], $4::text[], $5::text[], $6::text[], $7::bool[],
                            $8::float8[], $9::text[], $10::float8[], $11::int[], $12::bool[])
         AS t(id, attempts, status, result, error_code, error_message, error_retryable, cost, logs, delay_ms, duration_ms, release)
       ORDER BY id),
     upd AS (
       UPDATE jobs j SET
         status = i.status,
         result = CASE WHEN i.status = 'succeeded' THEN i.result::jsonb END,
         error_code = i.error_code, error_message = i.error_message, error_retryable = i.error_retryable,
         cost = j.cost + i.cost,
         logs = CASE WHEN i.logs IS NULL THEN j.logs ELSE COALESCE(j.logs, '[]'::jsonb) || i.logs::jsonb END,
         lease_owner = NULL, lease_expires_at = NULL,
         run_at = CASE WHEN i.status = 'pending' THEN now() + make_interval(secs => i.delay_ms / 1000) ELSE j.run_at END,
         attempts = CASE WHEN i.release OR i.status = 'waiting_input' THEN j.attempts - 1 ELSE j.attempts END,
         finished_at = CASE WHEN i.status IN ('succeeded', 'failed') THEN now() END,
         duration_ms = i.duration_ms
       FROM input i
       WHERE j.id = i.id AND j.status = 'running' AND j.lease_owner = $13 AND j.attempts = i.attempts
       RETURNING j.id, j.batch_id, j.status, j.run_at, i.cost, i.duration_ms,
                 width_bucket(i.duration_ms, $14::int[]) AS hb, j.status IN ('succeeded', 'failed') AS done),
     agg AS (
       SELECT u.batch_id,
              count(*) FILTER (WHERE u.status = 'succeeded')::int AS succeeded,
              count(*) FILTER (WHERE u.status = 'failed')::int AS failed,
              sum(u.cost)::float8 AS cost,
              COALESCE(sum(u.duration_ms) FILTER (WHERE u.done), 0)::bigint AS dsum,
              ARRAY(SELECT (SELECT count(*) FROM upd x WHERE x.batch_id = u.batch_id AND x.done AND x.hb = g)::int
                    FROM generate_series(0, $15::int - 1) g ORDER BY g) AS hist
       FROM upd u GROUP BY u.batch_id),
     metrics AS (
       INSERT INTO batch_metrics (batch_id, bucket, succeeded, failed, cost, duration_sum_ms, duration_hist)
       SELECT batch_id, date_trunc('second', now()), succeeded, failed, cost, dsum, hist
       FROM agg WHERE succeeded > 0 OR failed > 0 OR cost > 0
       ORDER BY batch_id
       ON CONFLICT (batch_id, bucket) DO UPDATE SET
         succeeded = batch_metrics.succeeded + excluded.succeeded, failed = batch_metrics.failed + excluded.failed,
         cost = batch_metrics.cost + excluded.cost, duration_sum_ms = batch_metrics.duration_sum_ms + excluded.duration_sum_ms,
         duration_hist = ARRAY(SELECT COALESCE(a, 0) + COALESCE(b, 0)
                               FROM unnest(batch_metrics.duration_hist, excluded.duration_hist) AS h(a, b))),
     requeue AS (
       INSERT INTO requeued_jobs (job_id, batch_id, run_at)
       SELECT id, batch_id, run_at FROM upd WHERE status = 'pending' ORDER BY id
       ON CONFLICT (job_id) DO UPDATE SET run_at = excluded.run_at),
     -- every outcome leaves the worker's in_flight list, accepted or fenced (then it was not ours anyway)
     owned AS (
       UPDATE workers SET in_flight = ARRAY(SELECT unnest(in_flight) EXCEPT SELECT unnest($1::bigint[]))
       WHERE id = $13)
     SELECT id, batch_id, status, cost FROM upd`,
    values: [
      outcomes.map((o) => o.id),
      outcomes.map((o) => o.attempts),
      outcomes.map((o) => o.status),
      outcomes.map((o) => o.result ?? null),
      outcomes.map((o) => o.error?.code ?? null),
      outcomes.map((o) => o.error?.message ?? null),
      outcomes.map((o) => (o.error ? o.error.retryable : null)),
      outcomes.map((o) => o.cost),
      outcomes.map((o) => o.logs),
      outcomes.map((o) => o.delayMs),
      outcomes.map((o) => Math.round(o.durationMs)),
      outcomes.map((o) => o.release ?? false),
      owner,
      HIST_THRESHOLDS,
      HISTOGRAM_SIZE,
    ],
  });
  if (rows.length === 0) return { applied: 0, settled: [] };

  const deltas = new Deltas();
  const parked: number[] = [];
  for (const r of rows) {
    deltas.move(r.batch_id, "running", r.status).addCost(r.batch_id, r.cost);
    if (r.status === "waiting_input") parked.push(r.id);
  }
  // an answer that arrived before the job parked leaves no open prompt: run it again at once
  await wakeJobs(client, parked);
  const states = await applyDeltas(client, deltas);
  const settled = await settleBatches(client, states, deltas);
  return { applied: rows.length, settled };
}
