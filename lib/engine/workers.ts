// A worker process's own rows: its registration, its heartbeat (which renews the leases of the jobs
// it holds, a chunked batch's through their calls), its stop, and the read of a batch's run settings it caches. The claim and the outcome
// writes are the cycle (./cycle, ./claim, ./complete).
import type { Batch as BatchModel } from "@/lib/generated/prisma/client";
import { getPool } from "@/lib/db/client";
import { modelOf } from "@/lib/db/rows";
import { batchRunSettings, heartbeat, insertWorker, markStopped, type HeldCall, type WorkerRegistration } from "@/lib/db/sql/workers";

export type { HeldCall } from "@/lib/db/sql/workers";

export interface WorkerCounts {
  running: number;
  processed: number;
  failed: number;
}

/** What a worker needs from a batch to run its jobs: these columns of its row. */
export type BatchRunSettings = Pick<BatchModel, "flow" | "parameters" | "interactive" | "maxRetries" | "retryBackoffMs" | "timeoutMs" | "rateLimitKey">;

export async function registerWorker(w: WorkerRegistration): Promise<void> {
  await insertWorker(getPool(), w);
}

/** What a heartbeat found still held: jobs in no call by id; calls held whole by key; the jobs still held in the other calls it sent. */
export interface StillHeld {
  /** jobs of `jobIds` still held, and the jobs still held of a call sent that is not whole */
  jobs: Set<number>;
  /** calls (callKey) whose running jobs are all those the worker counted */
  whole: Set<string>;
}

/** A chunked batch's call as a key: its batch and its number. */
export const callKey = (batchId: string, callId: number): string => `${batchId} ${callId}`;

/**
 * One statement: renews the leases of `jobIds` (jobs in no call) still held by `workerId` and of its
 * `calls` (a chunked batch's jobs are leased through their call: one row per call, so the beat does
 * not grow with chunk_size), renews the worker's own lease (the sweep looks at workers past it) with
 * its counts, and drops from its in_flight the ids found to be no longer its own (cancelled, stopped,
 * expired). A claim committing meanwhile only appends to in_flight: it is not lost. A call sent and
 * not found whole nor with jobs still held holds nothing of this worker's any more.
 */
export async function renewLeases(
  workerId: string,
  jobIds: readonly number[],
  calls: readonly HeldCall[],
  leaseMs: number,
  counts: WorkerCounts,
): Promise<StillHeld> {
  const rows = await heartbeat(getPool(), workerId, jobIds, calls, leaseMs, counts);
  const held: StillHeld = { jobs: new Set(), whole: new Set() };
  for (const r of rows) {
    if (r.id !== null) held.jobs.add(Number(r.id));
    else if (r.batch_id !== null && r.call_id !== null) held.whole.add(callKey(r.batch_id, r.call_id));
  }
  return held;
}

/**
 * Marks the worker stopped. in_flight (and, for a chunked batch's jobs, the worker's open calls) is how
 * the lease sweep finds a worker's jobs: any still running under it (a hand-back that could not be
 * written) stays there, to run again once its lease lapses.
 */
export async function markWorkerStopped(workerId: string, counts: Omit<WorkerCounts, "running">): Promise<void> {
  await markStopped(getPool(), workerId, counts);
}

/** Read once per batch per worker (lib/worker/batch-settings.ts caches it): one row of one model. */
export async function readBatchRunSettings(batchId: string): Promise<BatchRunSettings | null> {
  const r = await batchRunSettings(getPool(), batchId);
  return r ? modelOf<BatchRunSettings>(r) : null;
}
