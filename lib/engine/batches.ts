// Reading batches and the batch-level actions: cancel, pause, resume, retry.
import type pg from "pg";
import { isActiveBatch } from "@/lib/contract/statuses";
import { AppError } from "@/lib/errors";
import { getPool } from "@/lib/db/client";
import type { Queryable } from "@/lib/db/sql/queryable";
import {
  addToFlowTotals,
  clearBatchStop,
  deleteRequeuedPrompts,
  lockBatchRow,
  markBatchCancelled,
  readBatchRow,
  reopenBatch,
  requeueBatchJobs,
  setBatchStatus,
  takeBackReservedJobs,
} from "@/lib/db/sql/batches";
import { cancelOpenPrompts } from "@/lib/db/sql/prompts";
import { withTx } from "./db";
import { notifyBatch, notifyPrompts } from "./events";
import { toBatch, type BatchRead, type BatchRow } from "./map";
import { readRateLimitState, type RateLimitAsked, type RateLimitState } from "./rate-limits";
import { finishIfDone, jobsIn, moveBatchJobs, moveCounters } from "./transitions";
import type { BatchStatus, JobStatus } from "./types";

/** One batch as getBatch reads it: its row, its rate, and its rate limit's live state (null without a limit). */
export type BatchDetail = BatchRead & { rateLimitState: RateLimitState | null };

/**
 * One batch, with its rate. SQL, not Prisma Client: the expiry (by the database's clock) and the rate
 * (the last minute of batch_metrics) are expressions of the one statement; through Prisma Client it
 * took two queries and measured slower under load (bench/results/prisma-data-layer.md).
 */
/** A batch with its rate limit's live state; `db` is a connection in a snapshot to read it in one. */
export async function getBatch(id: string, db: Queryable = getPool()): Promise<BatchDetail> {
  const row = await readBatchRow(db, id);
  if (!row) throw new AppError("not_found", `batch ${JSON.stringify(id)} not found`);
  const batch = toBatch(row);
  const shared = !!(batch.rateLimit as RateLimitAsked | null)?.key;
  return { ...batch, rateLimitState: batch.rateLimitKey ? await readRateLimitState(batch.id, batch.rateLimitKey, shared) : null };
}

export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Locks the batch row (lock order: batches before jobs) or 404s. */
export async function lockBatch(client: pg.ClientBase, id: string): Promise<BatchRow> {
  const row = await lockBatchRow(client, id);
  if (!row) throw new AppError("not_found", `batch ${JSON.stringify(id)} not found`);
  return row;
}

function conflict(row: BatchRow, action: string): AppError {
  return new AppError("conflict", `cannot ${action}: batch is ${row.status}`, [{ message: `batch is ${row.status}` }]);
}

/**
 * Cancels a batch: pending and waiting jobs cancelled, running ones cancelled too (their workers see
 * it on the next heartbeat or NOTIFY and abort the signal; a late result is rejected by the fence).
 * Claims lock the batch row and check its status, so nothing of it starts once this has committed.
 */
export async function cancelBatch(id: string): Promise<BatchDetail> {
  await withTx(async (client) => {
    const row = await lockBatch(client, id);
    if (!isActiveBatch(row.status)) throw conflict(row, "cancel");
    await moveBatchJobs(client, id, ["pending", "waiting_input", "waiting_provider", "running", "reserved"], "cancelled", { code: "cancelled", message: "batch cancelled" });
    await cancelOpenPrompts(client, id);
    // the share of records processed (run to success or failure) before the cancel
    await markBatchCancelled(client, id);
  });
  notifyBatch(id, "cancelled");
  notifyPrompts(id);
  return getBatch(id);
}

export async function pauseBatch(id: string): Promise<BatchDetail> {
  await withTx(async (client) => {
    const row = await lockBatch(client, id);
    if (row.status === "paused") return;
    if (row.status !== "pending" && row.status !== "running") throw conflict(row, "pause");
    await setBatchStatus(client, id, "paused");
    await takeBackReservations(client, id);
  });
  notifyBatch(id, "paused");
  return getBatch(id);
}

/**
 * A paused batch starts nothing new: the jobs workers reserved ahead (not started) become pending
 * again, their attempt not counted. They are found through the workers' in_flight lists.
 */
async function takeBackReservations(client: pg.ClientBase, batchId: string): Promise<void> {
  await moveCounters(client, await takeBackReservedJobs(client, batchId));
}

export async function resumeBatch(id: string): Promise<BatchDetail> {
  let status: BatchStatus = "running";
  await withTx(async (client) => {
    const row = await lockBatch(client, id);
    if (row.status === "pending" || row.status === "running") {
      status = row.status;
      return;
    }
    if (row.status !== "paused") throw conflict(row, "resume");
    status = row.started_at ? "running" : "pending";
    await setBatchStatus(client, id, status);
    // running jobs may all have finished while paused: then there is nothing left and it ends now
    const done = await finishIfDone(client, [id]);
    if (done[0]) status = done[0].status;
  });
  notifyBatch(id, status);
  return getBatch(id);
}

const RETRYABLE_STATUSES: JobStatus[] = ["failed", "cancelled", "skipped"];

/**
 * Re-queues jobs of a batch in `statuses`, all of them or those of `jobIds`, and runs the batch again.
 * Attempts keep counting (each run of the flow is one); max_retries and max_interruptions get a fresh
 * allowance (retry_base, interruptions reset).
 */
export async function requeueJobs(
  client: pg.ClientBase,
  batch: BatchRow,
  statuses: JobStatus[],
  jobIds: number[] | null,
): Promise<number> {
  const moves = await requeueBatchJobs(client, batch.id, statuses, jobIds);
  const n = jobsIn(moves);
  if (n === 0) return 0;
  // the finishes these jobs leave the batch's counters with stay counted in the flow's totals
  // (GET /api/metrics: a counter never goes down)
  const left = (s: JobStatus) => jobsIn(moves.filter((m) => m.from_counter === s));
  await addToFlowTotals(client, batch.flow, { failed: left("failed"), cancelled: left("cancelled"), skipped: left("skipped") });
  // a cancelled job's prompts were cancelled with it; re-running asks again
  await deleteRequeuedPrompts(client, batch.id, jobIds);
  await moveCounters(client, moves);
  if (!isActiveBatch(batch.status)) {
    await reopenBatch(client, batch.id);
  } else if (batch.stop_reason === "budget_exhausted") {
    await clearBatchStop(client, batch.id);
  }
  return n;
}

export async function retryBatch(id: string, statuses: JobStatus[] = ["failed"]): Promise<{ batch: BatchDetail; retried: number }> {
  const bad = statuses.filter((s) => !RETRYABLE_STATUSES.includes(s));
  if (bad.length || statuses.length === 0) {
    throw new AppError("validation_failed", "statuses may only name failed, cancelled and skipped", [
      { path: "statuses", message: `one or more of ${RETRYABLE_STATUSES.join(", ")}` },
    ]);
  }
  const retried = await withTx(async (client) => {
    const row = await lockBatch(client, id);
    return requeueJobs(client, row, statuses, null);
  });
  const batch = await getBatch(id);
  if (retried > 0) notifyBatch(id, batch.status);
  return { batch, retried };
}
