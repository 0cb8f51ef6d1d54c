// Prompts (a person's answers a job waits for): the statements that stay SQL.
import type { Queryable } from "./queryable";

/** Cancels a batch's open prompts, in the transaction that ends the batch. */
export async function cancelOpenPrompts(db: Queryable, batchId: string): Promise<void> {
  await db.query(`UPDATE prompts SET status = 'cancelled' WHERE batch_id = $1 AND status = 'open'`, [batchId]);
}
