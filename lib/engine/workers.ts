// A worker process's own rows: its registration, its heartbeat (which renews the leases of the jobs
// it holds), its stop, and the read of a batch's run settings it caches. The claim and the outcome
// writes are the cycle (./cycle, ./claim, ./complete).
import type { Batch as BatchModel } from "@/lib/generated/prisma/client";
import { getPool } from "@/lib/db/client";
import { modelOf } from "@/lib/db/rows";
import { batchRunSettings, heartbeat, insertWorker, markStopped, type WorkerRegistration } from "@/lib/db/sql/workers";

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

/**
 * One statement: renews the leases of `jobIds` still held by `workerId`, renews the worker's own
 * lease (the sweep looks at workers past it) with its counts, and drops from its in_flight the ids
 * found to be no longer its own (cancelled, stopped, expired). A claim committing meanwhile only
 * appends to in_flight: it is not lost. Returns the ids still held.
 */
export async function renewLeases(workerId: string, jobIds: readonly number[], leaseMs: number, counts: WorkerCounts): Promise<Set<number>> {
  const rows = await heartbeat(getPool(), workerId, jobIds, leaseMs, counts);
  return new Set(rows.map((r) => Number(r.id)));
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
