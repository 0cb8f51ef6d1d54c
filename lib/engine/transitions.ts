// Every job transition moves its batch's counters in the same transaction: the statement that moves
// the jobs returns its counter moves (per batch, jobs from one counter to another), one UPDATE
// applies them by the counters' rule (the SQL function batch_counter_moves: lib/db/sql/transitions.ts;
// the worker cycle keeps its own counters stage, measured faster), then the batches are settled
// (stop policies, budget, completion). No counter arithmetic here. Lock order everywhere: batch rows (by id) before job rows.
import type pg from "pg";
import { isActiveBatch } from "@/lib/contract/statuses";
import { cancelOpenPrompts } from "@/lib/db/sql/prompts";
import {
  applyCounterMoves,
  deleteRequeuedOfBatch,
  finishBatchesIfDone,
  latestFailure,
  markBatchStopped,
  moveJobsOfBatch,
  wakeParkedJobs,
  type BatchState,
  type CounterMove,
  type MovedBatchState,
} from "@/lib/db/sql/transitions";
import type { BatchStatus, JobStatus, StopDetail } from "./types";

/**
 * The batch counters, as the SQL function job_counter names them: one per job status, with running
 * split in two: `running` (started, in one of the batch's slots) and `reserved` (claimed ahead by a
 * worker, started_at NULL).
 */
export type Counted = "pending" | "running" | "reserved" | "waiting_input" | "waiting_provider" | "succeeded" | "failed" | "cancelled" | "skipped";

/** Jobs that failed for good in one change, per batch: a stop policy or an error threshold acts on them. */
export type NewFailures = ReadonlyMap<string, number>;
const NONE: NewFailures = new Map();

export type { BatchState, CounterMove } from "@/lib/db/sql/transitions";

/** Moves the counters by the moves a statement returned, in one statement (rows in id order); the batches' new state. */
export async function moveCounters(client: pg.ClientBase, moves: readonly CounterMove[]): Promise<MovedBatchState[]> {
  return applyCounterMoves(client, moves);
}

/** The jobs that failed for good in the moves moveCounters applied, per batch (what settleBatches looks at). */
export function newFailuresOf(states: readonly MovedBatchState[]): NewFailures {
  return new Map(states.filter((s) => s.new_failures > 0).map((s) => [s.id, s.new_failures]));
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
): Promise<number> {
  const moves = await moveJobsOfBatch(client, batchId, from, to, error);
  // pending jobs moved away: their requeue entries go too (the claim would drop them anyway)
  if (from.includes("pending")) await deleteRequeuedOfBatch(client, batchId);
  await moveCounters(client, moves);
  return jobsIn(moves);
}

/** How many jobs the moves moved. */
export const jobsIn = (moves: readonly CounterMove[]) => moves.reduce((n, m) => n + (m.jobs ?? 1), 0);

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
  const message = `batch stopped: ${reason}`;
  // reservations have not started: on a budget stop they are skipped with the pending jobs
  const from: Counted[] =
    reason === "budget_exhausted"
      ? ["pending", "reserved", "waiting_input", "waiting_provider"]
      : ["pending", "reserved", "waiting_input", "waiting_provider", "running"];
  await moveBatchJobs(client, batchId, from, "skipped", { code: "batch_stopped", message });
  await cancelOpenPrompts(client, batchId);
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
  const moves = await wakeParkedJobs(client, jobIds, from, ready);
  await moveCounters(client, moves);
  return jobsIn(moves);
}
