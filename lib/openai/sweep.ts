// The /v1 batches' periodic work, run by every worker's maintenance (safe from several at once):
// a batch past its completion window ends `expired` (what is unfinished is cancelled with OpenAI's
// batch_expired), and a finished batch's output and error files are counted, which takes it from
// OpenAI's `finalizing` (or `cancelling`) to its final status. Once a minute, files past their
// expires_at are deleted.
import { isActiveBatch } from "@/lib/contract/statuses";
import { getPool } from "@/lib/db/client";
import {
  batchCompletion,
  deleteOpenAIFile,
  dueOpenAIBatches,
  expiredInputFiles,
  finalizeOpenAIBatch,
  insertOutputFile,
  lockOpenAIBatchForCompletion,
  markOpenAIBatchExpired,
  recountOutputFile,
  unfinalizeRerunOpenAIBatches,
} from "@/lib/db/sql/openai";
import { cancelOpenPrompts } from "@/lib/db/sql/prompts";
import { withTx } from "@/lib/db/tx";
import { deleteDatasetById } from "@/lib/datasets";
import { lockBatch } from "@/lib/engine/batches";
import { notifyBatch, notifyPrompts } from "@/lib/engine/events";
import { moveBatchJobs } from "@/lib/engine/transitions";
import { AppError } from "@/lib/errors";
import { newFileId } from "./objects";
import { countOutput } from "./output";

const EXPIRED = { code: "batch_expired", message: "the batch's completion window ended before this request ran" };
const RECONCILE_EVERY_MS = 60_000;
let lastReconcile = 0;

/** Ends one batch as expired: unfinished jobs (running ones aborted) cancelled as batch_expired. */
export async function expireBatch(batchId: string): Promise<boolean> {
  const expired = await withTx(async (client) => {
    const row = await lockBatch(client, batchId);
    if (!isActiveBatch(row.status)) return false;
    await moveBatchJobs(client, batchId, ["pending", "waiting_input", "waiting_provider", "running", "reserved"], "cancelled", EXPIRED);
    await cancelOpenPrompts(client, batchId);
    await markOpenAIBatchExpired(client, batchId);
    return true;
  });
  if (expired) {
    notifyBatch(batchId, "cancelled");
    notifyPrompts(batchId);
  }
  return expired;
}

/**
 * Counts a finished batch's output and error files (one read of its results), then records them for
 * that completion; if the batch ran again meanwhile (a retry), nothing is recorded and it is counted
 * again once it finishes.
 */
export async function finalizeBatch(batchId: string): Promise<boolean> {
  const batch = await batchCompletion(getPool(), batchId);
  const completedAt = batch?.completed_at;
  if (!completedAt || isActiveBatch(batch!.status)) return false;
  const count = await countOutput(batchId);
  return withTx(async (client) => {
    const mapping = await lockOpenAIBatchForCompletion(client, batchId, completedAt);
    if (!mapping) return false;
    const ids: Record<"output" | "error", string | null> = { output: null, error: null };
    for (const kind of ["output", "error"] as const) {
      const known = kind === "output" ? mapping.output_file_id : mapping.error_file_id;
      const { lines, bytes } = count[kind];
      if (lines === 0) {
        if (known) await deleteOpenAIFile(client, known);
        continue;
      }
      if (known && (await recountOutputFile(client, known, bytes, completedAt))) {
        ids[kind] = known;
        continue;
      }
      // first count, or the file was deleted: a new file
      ids[kind] = newFileId();
      await insertOutputFile(client, { id: ids[kind]!, kind, filename: `${batchId}_${kind}.jsonl`, bytes, batchId, countedFor: completedAt });
    }
    await finalizeOpenAIBatch(client, { batchId, outputFileId: ids.output, errorFileId: ids.error, usage: count.usage, completedAt });
    return true;
  });
}

/**
 * Input files past the expires_at their upload asked for go with their datasets; one an unfinished
 * batch still reads stays until a later round.
 */
export async function deleteExpiredFiles(limit = 20): Promise<number> {
  const rows = await expiredInputFiles(getPool(), limit);
  let deleted = 0;
  for (const r of rows) {
    try {
      await deleteDatasetById(r.dataset_id);
      deleted++;
    } catch (err) {
      if (!(err instanceof AppError && (err.code === "conflict" || err.code === "not_found"))) throw err;
    }
  }
  return deleted;
}

/** One round: expire what is past its window, count what has finished. Returns how many batches it moved. */
export async function sweepOpenAIBatches(limit = 10): Promise<number> {
  const pool = getPool();
  if (Date.now() - lastReconcile > RECONCILE_EVERY_MS) {
    lastReconcile = Date.now();
    // a finished /v1 batch run again (a retry from the dashboard or the CLI) must be counted again
    await unfinalizeRerunOpenAIBatches(pool);
    await deleteExpiredFiles();
  }
  const rows = await dueOpenAIBatches(pool, limit);
  let moved = 0;
  for (const r of rows) {
    if (isActiveBatch(r.status) && r.due && (await expireBatch(r.batch_id))) moved++;
    if (await finalizeBatch(r.batch_id)) moved++;
  }
  return moved;
}
