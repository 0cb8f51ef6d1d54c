// Writing many attempt outcomes in ONE transaction: one UPDATE over unnest() arrays for the jobs, one
// for the batch counters, one upsert for the per-second metrics. The job UPDATE is fenced: it only
// matches a job still running under this worker's lease for this very attempt, so a late write from a
// worker that lost its lease (expired, cancelled, stopped) changes nothing.
import type pg from "pg";
import { durationBucket, emptyHistogram } from "./metrics";
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

export async function writeOutcomes(client: pg.ClientBase, owner: string, outcomes: Outcome[]): Promise<FlushResult> {
  const { rows } = await client.query<{ id: number; batch_id: string; status: JobStatus; cost: number; duration_ms: number }>(
    `WITH input AS (
       SELECT * FROM unnest($1::bigint[], $2::int[], $3::job_status[], $4::text[], $5::text[], $6::text[], $7::bool[],
                            $8::float8[], $9::text[], $10::float8[], $11::int[], $12::bool[])
         AS t(id, attempts, status, result, error_code, error_message, error_retryable, cost, logs, delay_ms, duration_ms, release)
       ORDER BY id)
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
     RETURNING j.id, j.batch_id, j.status, i.cost, i.duration_ms`,
    [
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
      outcomes.map((o) => o.durationMs),
      outcomes.map((o) => o.release ?? false),
      owner,
    ],
  );
  if (rows.length === 0) return { applied: 0, settled: [] };

  const deltas = new Deltas();
  const parked: number[] = [];
  const bucket = new Date(Math.floor(Date.now() / 1000) * 1000);
  const metrics = new Map<string, { succeeded: number; failed: number; cost: number; sum: number; hist: number[] }>();
  for (const r of rows) {
    deltas.move(r.batch_id, "running", r.status).addCost(r.batch_id, r.cost);
    if (r.status === "waiting_input") parked.push(r.id);
    let m = metrics.get(r.batch_id);
    if (!m) metrics.set(r.batch_id, (m = { succeeded: 0, failed: 0, cost: 0, sum: 0, hist: emptyHistogram() }));
    m.cost += r.cost;
    if (r.status === "succeeded" || r.status === "failed") {
      m[r.status]++;
      m.sum += r.duration_ms;
      m.hist[durationBucket(r.duration_ms)]!++;
    }
  }
  // an answer that arrived before the job parked leaves no open prompt: run it again at once
  await wakeJobs(client, parked);
  const states = await applyDeltas(client, deltas);
  const settled = await settleBatches(client, states, deltas);
  const m = [...metrics.entries()].filter(([, v]) => v.succeeded || v.failed || v.cost).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  if (m.length) {
    await client.query(
      `INSERT INTO batch_metrics (batch_id, bucket, succeeded, failed, cost, duration_sum_ms, duration_hist)
       SELECT t.batch_id, $2, t.succeeded, t.failed, t.cost, t.dsum, t.hist::int[]
       FROM unnest($1::text[], $3::int[], $4::int[], $5::float8[], $6::bigint[], $7::text[]) AS t(batch_id, succeeded, failed, cost, dsum, hist)
       ON CONFLICT (batch_id, bucket) DO UPDATE SET
         succeeded = batch_metrics.succeeded + excluded.succeeded, failed = batch_metrics.failed + excluded.failed,
         cost = batch_metrics.cost + excluded.cost, duration_sum_ms = batch_metrics.duration_sum_ms + excluded.duration_sum_ms,
         duration_hist = ARRAY(SELECT COALESCE(a, 0) + COALESCE(b, 0)
                               FROM unnest(batch_metrics.duration_hist, excluded.duration_hist) AS h(a, b))`,
      [
        m.map(([id]) => id),
        bucket,
        m.map(([, v]) => v.succeeded),
        m.map(([, v]) => v.failed),
        m.map(([, v]) => v.cost),
        m.map(([, v]) => v.sum),
        m.map(([, v]) => `{${v.hist.join(",")}}`),
      ],
    );
  }
  return { applied: rows.length, settled };
}
