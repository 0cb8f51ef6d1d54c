// Every job transition moves its batch's counters in the same transaction: callers collect
// per-batch deltas, apply them in one UPDATE, then settle the batches (stop policies, budget,
// completion). Lock order everywhere: batch rows (by id) before job rows.
import type pg from "pg";
import { isActiveBatch } from "@/lib/contract/statuses";
import type { BatchStatus, JobStatus, StopDetail } from "./types";

/**
 * The batch counters: one per job status, with running split in two: `running` (started, in one of
 * the batch's slots) and `reserved` (claimed ahead by a worker, started_at NULL).
 */
export type Counted = "pending" | "running" | "reserved" | "waiting_input" | "waiting_provider" | "succeeded" | "failed" | "cancelled" | "skipped";

/** SQL: the counter a job row counts in (`j`: its alias) */
export const countedAs = (j: string) =>
  `(CASE WHEN ${j}.status = 'running' AND ${j}.started_at IS NULL THEN 'reserved' ELSE ${j}.status::text END)`;

export interface Delta {
  counts: Record<Counted, number>;
  cost: number;
  /** jobs that failed for good in this change (error policy "stop" looks at these) */
  newFailures: number;
}

export class Deltas {
  readonly map = new Map<string, Delta>();

  private get(batchId: string): Delta {
    let d = this.map.get(batchId);
    if (!d) {
      d = { counts: { pending: 0, running: 0, reserved: 0, waiting_input: 0, waiting_provider: 0, succeeded: 0, failed: 0, cancelled: 0, skipped: 0 }, cost: 0, newFailures: 0 };
      this.map.set(batchId, d);
    }
    return d;
  }

  move(batchId: string, from: Counted | null, to: Counted | null, n = 1): this {
    if (from === to || n === 0) return this;
    const d = this.get(batchId);
    if (from) d.counts[from] -= n;
    if (to) d.counts[to] += n;
    if (to === "failed") d.newFailures += n;
    return this;
  }

  addCost(batchId: string, cost: number): this {
    if (cost) this.get(batchId).cost += cost;
    return this;
  }

  get size() {
    return this.map.size;
  }

  /** jobs that failed for good in this change, per batch (what settleBatches looks at) */
  failures(): Map<string, number> {
    return new Map([...this.map].filter(([, d]) => d.newFailures > 0).map(([id, d]) => [id, d.newFailures]));
  }
}

/** Jobs that failed for good in one change, per batch: a stop policy or an error threshold acts on them. */
export type NewFailures = ReadonlyMap<string, number>;
const NONE: NewFailures = new Map();

export interface BatchState {
  id: string;
  status: BatchStatus;
  pending: number;
  running: number;
  reserved: number;
  waiting_input: number;
  waiting_provider: number;
  succeeded: number;
  failed: number;
  cost_spent: number;
  max_cost: number | null;
  error_policy: "continue" | "stop";
  error_threshold_rate: number | null;
  error_threshold_min_finished: number | null;
  stop_reason: string | null;
}

export const STATE_COLUMNS = `id, status, pending, running, reserved, waiting_input, waiting_provider, succeeded, failed, cost_spent, max_cost, error_policy,
  error_threshold_rate, error_threshold_min_finished, stop_reason`;

/** Applies the deltas in one statement (rows touched in id order) and returns the batches' new state. */
export async function applyDeltas(client: pg.ClientBase, deltas: Deltas): Promise<BatchState[]> {
  if (deltas.size === 0) return [];
  const entries = [...deltas.map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const col = (k: Counted) => entries.map(([, d]) => d.counts[k]);
  const { rows } = await client.query<BatchState>({
    name: "batchboard_apply_deltas",
    text: `UPDATE batches b SET
       pending = b.pending + d.pending, running = b.running + d.running, reserved = b.reserved + d.reserved,
       waiting_input = b.waiting_input + d.waiting_input, waiting_provider = b.waiting_provider + d.waiting_provider,
       succeeded = b.succeeded + d.succeeded, failed = b.failed + d.failed, cancelled = b.cancelled + d.cancelled,
       skipped = b.skipped + d.skipped, cost_spent = b.cost_spent + d.cost, updated_at = now()
     FROM (SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::int[], $5::int[], $6::int[], $7::int[], $8::int[], $9::float8[], $10::int[], $11::int[])
           AS t(id, pending, running, waiting_input, succeeded, failed, cancelled, skipped, cost, reserved, waiting_provider) ORDER BY id) d
     WHERE b.id = d.id
     RETURNING ${STATE_COLUMNS.split(",").map((c) => `b.${c.trim()}`).join(", ")}`,
    values: [
      entries.map(([id]) => id),
      col("pending"),
      col("running"),
      col("waiting_input"),
      col("succeeded"),
      col("failed"),
      col("cancelled"),
      col("skipped"),
      entries.map(([, d]) => d.cost),
      col("reserved"),
      col("waiting_provider"),
    ],
  });
  return rows;
}

export interface Settled {
  id: string;
  status: BatchStatus;
  /** a stop policy or the budget stopped it here */
  stopped?: boolean;
}

/** No job left to run or waiting: the batch can end. */
const nothingLeft = (s: BatchState) =>
  s.pending === 0 && s.running === 0 && s.reserved === 0 && s.waiting_input === 0 && s.waiting_provider === 0;

/** Whether settleBatches would act on this batch: it ran out of work, or a stop policy or the budget may apply. */
export function needsSettle(s: BatchState, failures: NewFailures = NONE): boolean {
  if (!isActiveBatch(s.status)) return false;
  const newFailures = failures.get(s.id) ?? 0;
  return (
    nothingLeft(s) ||
    (s.error_policy === "stop" && newFailures > 0) ||
    (s.error_threshold_rate !== null && newFailures > 0) ||
    (s.max_cost !== null && s.cost_spent >= s.max_cost)
  );
}

/**
 * After counters moved: stops batches whose error policy, error threshold or budget says so, and
 * finishes batches with nothing left to run. Returns every batch touched, with its status now.
 */
export async function settleBatches(client: pg.ClientBase, states: BatchState[], failures: NewFailures = NONE): Promise<Settled[]> {
  const out = new Map<string, BatchStatus>();
  const stoppedHere = new Set<string>();
  for (const s of states) {
    out.set(s.id, s.status);
    if (!isActiveBatch(s.status)) continue;
    const newFailures = failures.get(s.id) ?? 0;
    const finished = s.succeeded + s.failed;
    if (s.error_policy === "stop" && newFailures > 0 && s.failed > 0) {
      stoppedHere.add(s.id);
      out.set(s.id, await stopBatch(client, s.id, await errorPolicyDetail(client, s)));
    } else if (
      s.error_threshold_rate !== null &&
      newFailures > 0 &&
      finished >= (s.error_threshold_min_finished ?? 1) &&
      s.failed / finished >= s.error_threshold_rate
    ) {
      stoppedHere.add(s.id);
      const threshold = { threshold: s.error_threshold_rate, minFinished: s.error_threshold_min_finished ?? 1 };
      out.set(s.id, await stopBatch(client, s.id, { reason: "error_threshold", failed: s.failed, finished, rate: s.failed / finished, ...threshold }));
    } else if (
      s.max_cost !== null &&
      s.cost_spent >= s.max_cost &&
      // a running job that failed and was re-queued after the stop is skipped too
      (s.stop_reason === null || s.pending > 0 || s.waiting_input > 0 || s.waiting_provider > 0)
    ) {
      stoppedHere.add(s.id);
      out.set(s.id, await stopBatch(client, s.id, { reason: "budget_exhausted", spent: s.cost_spent, maxCost: s.max_cost }));
    }
  }
  // only batches with nothing left can finish: skip the statement on the hot path otherwise
  const maybeDone = states.filter((s) => nothingLeft(s) && out.get(s.id) !== "failed");
  const stopped = [...out.entries()].filter(([id, st]) => st !== states.find((x) => x.id === id)?.status).map(([id]) => id);
  const finished = await finishIfDone(client, [...new Set([...maybeDone.map((s) => s.id), ...stopped])]);
  for (const f of finished) out.set(f.id, f.status);
  return [...out.entries()].map(([id, status]) => ({ id, status, ...(stoppedHere.has(id) ? { stopped: true } : {}) }));
}

/** Batches with nothing pending, running or waiting end: completed, or failed when they were stopped. */
export async function finishIfDone(client: pg.ClientBase, ids: string[]): Promise<Settled[]> {
  if (ids.length === 0) return [];
  const { rows } = await client.query<Settled>(
    `UPDATE batches SET
       status = (CASE WHEN stop_reason IS NULL THEN 'completed' ELSE 'failed' END)::batch_status,
       completed_at = now(), updated_at = now(),
       webhook_state = CASE WHEN webhook_url IS NOT NULL THEN 'pending' END, webhook_next_at = now()
     WHERE id = ANY($1::text[]) AND status IN ('pending', 'running', 'paused')
       AND pending = 0 AND running = 0 AND reserved = 0 AND waiting_input = 0 AND waiting_provider = 0
     RETURNING id, status`,
    [ids],
  );
  return rows;
}

/**
 * Moves a batch's unfinished jobs to `to` (those counted in `from`), with the counters, and returns
 * how many moved. Running (and reserved) jobs moved away lose their lease: their worker's heartbeat
 * notices and aborts them, and its late completion is rejected (it no longer matches status 'running').
 */
export async function moveBatchJobs(
  client: pg.ClientBase,
  batchId: string,
  from: Counted[],
  to: JobStatus,
  error: { code: string; message: string } | null,
  deltas: Deltas,
): Promise<number> {
  const { rows } = await client.query<{ old: Counted; n: number }>(
    `WITH t AS (SELECT id, ${countedAs("jobs")} AS old FROM jobs
                WHERE batch_id = $1 AND ${countedAs("jobs")} = ANY($2::text[]) FOR UPDATE),
     u AS (
       UPDATE jobs j SET status = $3::job_status, lease_owner = NULL, lease_expires_at = NULL,
         finished_at = now(), duration_ms = CASE WHEN t.old = 'running' THEN (extract(epoch FROM now() - j.started_at) * 1000)::int ELSE j.duration_ms END,
         error_code = COALESCE($4, j.error_code), error_message = COALESCE($5, j.error_message),
         error_retryable = CASE WHEN $4::text IS NULL THEN j.error_retryable ELSE false END
       FROM t WHERE j.id = t.id RETURNING t.old)
     SELECT old, count(*)::int AS n FROM u GROUP BY old`,
    [batchId, from, to, error?.code ?? null, error?.message ?? null],
  );
  // pending jobs moved away: their requeue entries go too (the claim would drop them anyway)
  if (from.includes("pending")) await client.query(`DELETE FROM requeued_jobs WHERE batch_id = $1`, [batchId]);
  let total = 0;
  for (const r of rows) {
    deltas.move(batchId, r.old, to, r.n);
    total += r.n;
  }
  return total;
}

/**
 * Error policy "stop": the record whose failure stopped the batch, the latest to fail. Found by a walk
 * of the batch's jobs (no index on status, so job updates stay HOT), once in the batch's life.
 */
async function errorPolicyDetail(client: pg.ClientBase, s: BatchState): Promise<Extract<StopDetail, { reason: "error_policy" }>> {
  const { rows } = await client.query<{ record_id: string; error_code: string | null; error_message: string | null }>(
    `SELECT record_id, error_code, error_message FROM jobs WHERE batch_id = $1 AND status = 'failed'
     ORDER BY finished_at DESC NULLS LAST, id DESC LIMIT 1`,
    [s.id],
  );
  const r = rows[0];
  return {
    reason: "error_policy",
    failed: s.failed,
    recordId: r?.record_id ?? null,
    error: r?.error_code ? { code: r.error_code, message: r.error_message ?? "" } : null,
  };
}

/**
 * Stops a batch for `detail.reason`, keeping the numbers that made it stop. error_policy /
 * error_threshold: pending and waiting jobs skipped, running ones aborted, status failed at once.
 * budget_exhausted: nothing new starts, pending and waiting jobs skipped, running ones may finish
 * (the overshoot bound); the batch ends when they have.
 */
export async function stopBatch(client: pg.ClientBase, batchId: string, detail: Exclude<StopDetail, { reason: "cancelled" }>): Promise<BatchStatus> {
  const reason = detail.reason;
  const deltas = new Deltas();
  const message = `batch stopped: ${reason}`;
  // reservations have not started: on a budget stop they are skipped with the pending jobs
  const from: Counted[] =
    reason === "budget_exhausted"
      ? ["pending", "reserved", "waiting_input", "waiting_provider"]
      : ["pending", "reserved", "waiting_input", "waiting_provider", "running"];
  await moveBatchJobs(client, batchId, from, "skipped", { code: "batch_stopped", message }, deltas);
  await client.query(
    `UPDATE prompts SET status = 'cancelled' WHERE batch_id = $1 AND status = 'open'`,
    [batchId],
  );
  await applyDeltas(client, deltas);
  const { rows } = await client.query<{ status: BatchStatus }>(
    `UPDATE batches SET stop_reason = $2, stop_detail = $3::jsonb, updated_at = now(),
       status = (CASE WHEN $2 = 'budget_exhausted' AND running > 0 THEN status ELSE 'failed' END)::batch_status,
       completed_at = CASE WHEN $2 = 'budget_exhausted' AND running > 0 THEN completed_at ELSE now() END,
       webhook_state = CASE WHEN ($2 <> 'budget_exhausted' OR running = 0) AND webhook_url IS NOT NULL THEN 'pending' ELSE webhook_state END,
       webhook_next_at = now()
     WHERE id = $1 RETURNING status`,
    [batchId, reason, JSON.stringify(detail)],
  );
  return rows[0]!.status;
}

/**
 * Parked jobs (in `from`, among `jobIds`) that may run now, as `ready` says (SQL over the job row `j`),
 * go back to pending at once, requeued, with the counters. Runs in the caller's transaction. Returns
 * the number woken.
 */
export async function wakeParked(
  client: pg.ClientBase,
  jobIds: readonly number[],
  from: "waiting_input" | "waiting_provider",
  ready: string,
): Promise<number> {
  if (jobIds.length === 0) return 0;
  const { rows } = await client.query<{ batch_id: string }>(
    `WITH woken AS (
       UPDATE jobs j SET status = 'pending', run_at = now()
       WHERE j.id = ANY($1::bigint[]) AND j.status = $2::job_status AND ${ready}
       RETURNING j.id, j.batch_id, j.run_at),
     requeue AS (
       INSERT INTO requeued_jobs (job_id, batch_id, run_at) SELECT id, batch_id, run_at FROM woken ORDER BY id
       ON CONFLICT (job_id) DO UPDATE SET run_at = excluded.run_at)
     SELECT batch_id FROM woken`,
    [jobIds, from],
  );
  if (rows.length === 0) return 0;
  const deltas = new Deltas();
  for (const r of rows) deltas.move(r.batch_id, from, "pending");
  await applyDeltas(client, deltas);
  return rows.length;
}
