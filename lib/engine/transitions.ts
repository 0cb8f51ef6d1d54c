// Every job transition moves its batch's counters in the same transaction: callers collect
// per-batch deltas, apply them in one UPDATE, then settle the batches (stop policies, budget,
// completion). Lock order everywhere: batch rows (by id) before job rows.
import type pg from "pg";
import { isActiveBatch } from "@/lib/contract/statuses";
import { cancelOpenPrompts } from "@/lib/db/sql/prompts";
import {
  applyCounterDeltas,
  deleteRequeuedOfBatch,
  finishBatchesIfDone,
  latestFailure,
  markBatchStopped,
  moveJobsOfBatch,
  wakeParkedJobs,
  type BatchState,
} from "@/lib/db/sql/transitions";
import type { BatchStatus, JobStatus, StopDetail } from "./types";

/**
 * The batch counters: one per job status, with running split in two: `running` (started, in one of
 * the batch's slots) and `reserved` (claimed ahead by a worker, started_at NULL).
 */
export type Counted = "pending" | "running" | "reserved" | "waiting_input" | "waiting_provider" | "succeeded" | "failed" | "cancelled" | "skipped";

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

export type { BatchState } from "@/lib/db/sql/transitions";

/** Applies the deltas in one statement (rows touched in id order) and returns the batches' new state. */
export async function applyDeltas(client: pg.ClientBase, deltas: Deltas): Promise<BatchState[]> {
  if (deltas.size === 0) return [];
  const entries = [...deltas.map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const col = (k: Counted) => entries.map(([, d]) => d.counts[k]);
  return applyCounterDeltas(client, [
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
  ]);
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
  return finishBatchesIfDone<BatchStatus>(client, ids);
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
  const rows = await moveJobsOfBatch<Counted>(client, batchId, from, to, error);
  // pending jobs moved away: their requeue entries go too (the claim would drop them anyway)
  if (from.includes("pending")) await deleteRequeuedOfBatch(client, batchId);
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
  const r = await latestFailure(client, s.id);
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
  await cancelOpenPrompts(client, batchId);
  await applyDeltas(client, deltas);
  return markBatchStopped<BatchStatus>(client, batchId, reason, detail);
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
  const rows = await wakeParkedJobs(client, jobIds, from, ready);
  if (rows.length === 0) return 0;
  const deltas = new Deltas();
  for (const r of rows) deltas.move(r.batch_id, from, "pending");
  await applyDeltas(client, deltas);
  return rows.length;
}
