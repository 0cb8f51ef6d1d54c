// The /v1 batches' periodic work, run by every worker's maintenance (safe from several at once):
// a batch past its completion window ends `expired` (what is unfinished is cancelled with OpenAI's
// batch_expired), and a finished batch's output and error files are counted, which takes it from
// OpenAI's `finalizing` (or `cancelling`) to its final status. Once a minute, files past their
// expires_at are deleted.
import { isActiveBatch, type BatchStatus } from "@/lib/contract/statuses";
import { getPool } from "@/lib/db/client";
import { withTx } from "@/lib/db/tx";
import { deleteDataset } from "@/lib/datasets";
import { lockBatch } from "@/lib/engine/batches";
import { notifyBatch, notifyPrompts } from "@/lib/engine/events";
import { applyDeltas, Deltas, moveBatchJobs } from "@/lib/engine/transitions";
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
    const deltas = new Deltas();
    await moveBatchJobs(client, batchId, ["pending", "waiting_input", "waiting_provider", "running", "reserved"], "cancelled", EXPIRED, deltas);
    await client.query(`UPDATE prompts SET status = 'cancelled' WHERE batch_id = $1 AND status = 'open'`, [batchId]);
    await applyDeltas(client, deltas);
    await client.query(
      `UPDATE batches SET status = 'cancelled', stop_reason = 'expired', completed_at = now(), updated_at = now(),
         webhook_state = CASE WHEN webhook_url IS NOT NULL THEN 'pending' END, webhook_next_at = now()
       WHERE id = $1`,
      [batchId],
    );
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
  const { rows } = await getPool().query<{ completed_at: Date | null; status: BatchStatus }>(`SELECT completed_at, status FROM batches WHERE id = $1`, [batchId]);
  const completedAt = rows[0]?.completed_at;
  if (!completedAt || isActiveBatch(rows[0]!.status)) return false;
  const count = await countOutput(batchId);
  return withTx(async (client) => {
    const current = await client.query<{ output_file_id: string | null; error_file_id: string | null }>(
      `SELECT o.output_file_id, o.error_file_id FROM openai_batches o JOIN batches b ON b.id = o.batch_id
       WHERE o.batch_id = $1 AND b.completed_at = $2 FOR UPDATE OF o, b`,
      [batchId, completedAt],
    );
    const mapping = current.rows[0];
    if (!mapping) return false;
    const ids: Record<"output" | "error", string | null> = { output: null, error: null };
    for (const kind of ["output", "error"] as const) {
      const known = kind === "output" ? mapping.output_file_id : mapping.error_file_id;
      const { lines, bytes } = count[kind];
      if (lines === 0) {
        if (known) await client.query(`DELETE FROM openai_files WHERE id = $1`, [known]);
        continue;
      }
      const kept = known ? await client.query(`UPDATE openai_files SET bytes = $2, counted_for = $3 WHERE id = $1`, [known, bytes, completedAt]) : null;
      if (kept?.rowCount) {
        ids[kind] = known;
        continue;
      }
      // first count, or the file was deleted: a new file
      ids[kind] = newFileId();
      await client.query(
        `INSERT INTO openai_files (id, kind, purpose, filename, bytes, batch_id, counted_for) VALUES ($1, $2, 'batch_output', $3, $4, $5, $6)`,
        [ids[kind], kind, `${batchId}_${kind}.jsonl`, bytes, batchId, completedAt],
      );
    }
    await client.query(
      `UPDATE openai_batches SET output_file_id = $2, error_file_id = $3, usage = $4, finalized_at = now(), finalized_for = $5 WHERE batch_id = $1`,
      [batchId, ids.output, ids.error, JSON.stringify(count.usage), completedAt],
    );
    return true;
  });
}

/**
 * Input files past the expires_at their upload asked for go with their datasets; one an unfinished
 * batch still reads stays until a later round.
 */
export async function deleteExpiredFiles(limit = 20): Promise<number> {
  const { rows } = await getPool().query<{ dataset_id: string }>(
    `SELECT dataset_id FROM openai_files WHERE kind = 'input' AND expires_at < now() ORDER BY expires_at LIMIT $1`,
    [limit],
  );
  let deleted = 0;
  for (const r of rows) {
    try {
      await deleteDataset(r.dataset_id);
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
    await pool.query(
      `UPDATE openai_batches o SET finalized_at = NULL FROM batches b
       WHERE b.id = o.batch_id AND o.finalized_at IS NOT NULL AND o.errors IS NULL AND b.completed_at IS DISTINCT FROM o.finalized_for`,
    );
    await deleteExpiredFiles();
  }
  const { rows } = await pool.query<{ batch_id: string; status: BatchStatus; due: boolean }>(
    `SELECT o.batch_id, b.status, o.expires_at <= now() AS due FROM openai_batches o JOIN batches b ON b.id = o.batch_id
     WHERE o.finalized_at IS NULL AND (o.expires_at <= now() OR b.status NOT IN ('pending', 'running', 'paused'))
     ORDER BY o.expires_at LIMIT $1`,
    [limit],
  );
  let moved = 0;
  for (const r of rows) {
    if (isActiveBatch(r.status) && r.due && (await expireBatch(r.batch_id))) moved++;
    if (await finalizeBatch(r.batch_id)) moved++;
  }
  return moved;
}
