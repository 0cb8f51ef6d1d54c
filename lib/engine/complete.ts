// Writing many attempt outcomes in ONE statement: the fenced job UPDATE over unnest() arrays, the
// batch counters, the per-second metrics, the requeue entries of retried jobs and the worker's
// in_flight list all move together, so the statement is its own transaction (one round trip). The
// job UPDATE is fenced: it only matches a job still running under this worker's lease for this very
// attempt, so a late write from a worker that lost its lease (expired, cancelled, stopped) changes
// nothing. The batch checks (stop policies, budget, completion) follow only when a batch needs one.
import type pg from "pg";
import { getPool } from "@/lib/db/client";
import { retryOnDeadlock } from "@/lib/db/tx";
import { DURATION_BOUNDS_MS, HISTOGRAM_SIZE } from "./metrics";
import { wakeJobs } from "./prompts";
import { withTx } from "./db";
import { Deltas, needsSettle, settleBatches, STATE_COLUMNS, type BatchState, type Settled } from "./transitions";

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

interface Moved extends BatchState {
  n: number;
  m_succeeded: number;
  m_failed: number;
  m_pending: number;
  m_waiting_input: number;
  m_cost: number;
}

/**
 * The statement: the fenced job UPDATE; the per-second metrics (counts, cost, duration histogram),
 * the requeue entries, the in_flight list and the batch counters, from what it changed. Returns the
 * touched batches' new state with what moved. Runs on `client` (a transaction) or the pool (alone).
 */
async function applyOutcomes(client: pg.ClientBase | pg.Pool, owner: string, outcomes: Outcome[]): Promise<{ applied: number; states: BatchState[]; deltas: Deltas }> {
  const { rows } = await client.query<Moved>({
    name: "batchboard_write_outcomes",
    // the outcomes arrive as ONE json array (json_to_recordset): a single JSON.stringify on our side,
    // where a dozen array parameters cost pg's per-element escaping in JavaScript
    text: `WITH input AS (
       SELECT * FROM json_to_recordset($1::json)
         AS t(id bigint, attempts int, status job_status, result text, error_code text, error_message text, error_retryable bool,
              cost float8, logs text, delay_ms float8, duration_ms int, release bool)
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
       WHERE j.id = i.id AND j.status = 'running' AND j.lease_owner = $2 AND j.attempts = i.attempts
       RETURNING j.id, j.batch_id, j.status, j.run_at, i.cost, i.duration_ms,
                 width_bucket(i.duration_ms, $3::int[]) AS hb, j.status IN ('succeeded', 'failed') AS done),
     -- finished attempts per batch and duration bucket, one pass; then one histogram array per batch
     buckets AS (
       SELECT batch_id, hb, count(*)::int AS n FROM upd WHERE done GROUP BY batch_id, hb),
     -- what moved per batch: the metrics row and the counters both come from here
     agg AS (
       SELECT u.batch_id, count(*)::int AS n,
              count(*) FILTER (WHERE u.status = 'succeeded')::int AS succeeded,
              count(*) FILTER (WHERE u.status = 'failed')::int AS failed,
              count(*) FILTER (WHERE u.status = 'pending')::int AS pending,
              count(*) FILTER (WHERE u.status = 'waiting_input')::int AS waiting_input,
              COALESCE(sum(u.cost), 0)::float8 AS cost,
              COALESCE(sum(u.duration_ms) FILTER (WHERE u.done), 0)::bigint AS dsum,
              (SELECT array_agg(COALESCE(k.n, 0) ORDER BY g)
               FROM generate_series(0, $4::int - 1) g LEFT JOIN buckets k ON k.batch_id = u.batch_id AND k.hb = g) AS hist
       FROM upd u GROUP BY u.batch_id ORDER BY u.batch_id),
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
       UPDATE workers SET in_flight = ARRAY(SELECT unnest(in_flight) EXCEPT SELECT id FROM input)
       WHERE id = $2)
     UPDATE batches b SET
       running = b.running - m.n, pending = b.pending + m.pending, waiting_input = b.waiting_input + m.waiting_input,
       succeeded = b.succeeded + m.succeeded, failed = b.failed + m.failed, cost_spent = b.cost_spent + m.cost,
       updated_at = now()
     FROM agg m WHERE b.id = m.batch_id
     RETURNING ${STATE_COLUMNS.split(",").map((c) => `b.${c.trim()}`).join(", ")}, m.n,
       m.succeeded AS m_succeeded, m.failed AS m_failed, m.pending AS m_pending, m.waiting_input AS m_waiting_input, m.cost AS m_cost`,
    values: [
      JSON.stringify(
        outcomes.map((o) => ({
          id: o.id,
          attempts: o.attempts,
          status: o.status,
          result: o.result ?? null,
          error_code: o.error?.code ?? null,
          error_message: o.error?.message ?? null,
          error_retryable: o.error ? o.error.retryable : null,
          cost: o.cost,
          logs: o.logs,
          delay_ms: o.delayMs,
          duration_ms: Math.round(o.durationMs),
          release: o.release ?? false,
        })),
      ),
      owner,
      HIST_THRESHOLDS,
      HISTOGRAM_SIZE,
    ],
  });
  const deltas = new Deltas();
  let applied = 0;
  for (const r of rows) {
    applied += r.n;
    deltas
      .move(r.id, "running", "succeeded", r.m_succeeded)
      .move(r.id, "running", "failed", r.m_failed)
      .move(r.id, "running", "pending", r.m_pending)
      .move(r.id, "running", "waiting_input", r.m_waiting_input)
      .addCost(r.id, r.m_cost);
  }
  return { applied, states: rows, deltas };
}

/** Writes the outcomes inside the caller's transaction, wakes parked jobs whose answer came first, settles batches. */
export async function writeOutcomes(client: pg.ClientBase, owner: string, outcomes: Outcome[]): Promise<FlushResult> {
  const { applied, states, deltas } = await applyOutcomes(client, owner, outcomes);
  if (applied === 0) return { applied: 0, settled: [] };
  // an answer that arrived before the job parked leaves no open prompt: run it again at once
  await wakeJobs(client, outcomes.filter((o) => o.status === "waiting_input").map((o) => o.id));
  return { applied, settled: await settleBatches(client, states, deltas) };
}

/**
 * The worker's path: the outcomes in one statement on the pool (its own transaction), and a
 * transaction for the batch checks only when a batch needs one (it finished, or a stop policy or the
 * budget may apply). Parked jobs take writeOutcomes' transaction: the park and the wake-up check
 * must commit together.
 */
export async function flushOutcomes(owner: string, outcomes: Outcome[]): Promise<FlushResult> {
  if (outcomes.some((o) => o.status === "waiting_input")) return withTx((client) => writeOutcomes(client, owner, outcomes));
  const { applied, states, deltas } = await retryOnDeadlock(() => applyOutcomes(getPool(), owner, outcomes));
  const settled: Settled[] = states.map((s) => ({ id: s.id, status: s.status }));
  const due = states.filter((s) => needsSettle(s, deltas)).map((s) => s.id);
  if (due.length === 0) return { applied, settled };
  const checked = await withTx(async (client) => {
    // the state again, under the batch locks: another writer may have moved it since
    const fresh = await client.query<BatchState>(
      `SELECT ${STATE_COLUMNS} FROM batches WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
      [due],
    );
    return settleBatches(client, fresh.rows, deltas);
  });
  const byId = new Map(checked.map((c) => [c.id, c.status]));
  return { applied, settled: settled.map((s) => ({ id: s.id, status: byId.get(s.id) ?? s.status })) };
}
