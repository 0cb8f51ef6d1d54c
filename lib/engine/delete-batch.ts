// Deleting a finished batch: its jobs, prompts, metrics and attempts go with it (foreign keys and the
// batches_deleted trigger), and so do its inline dataset and its own rate limit. Batches run again
// from it keep their parent_id, so their lineage can say the parent was deleted.
import type pg from "pg";
import { isActiveBatch } from "@/lib/contract/statuses";
import { deleteBatchRow, deleteRateLimits, deleteUnusedInlineDatasets } from "@/lib/db/sql/batches";
import { AppError } from "@/lib/errors";
import { withTx } from "./db";
import { lockBatch } from "./batches";
import { notifyBatch } from "./events";

export interface DeletedBatch {
  id: string;
  /** the jobs deleted with it */
  jobs: number;
}

export async function deleteBatch(id: string): Promise<DeletedBatch> {
  const deleted = await withTx(async (client) => {
    const row = await lockBatch(client, id);
    if (isActiveBatch(row.status)) {
      throw new AppError("conflict", `cannot delete batch ${JSON.stringify(id)}: it is ${row.status}; cancel it first, or wait until it finishes`, [
        { path: "id", message: `batch is ${row.status}` },
      ]);
    }
    await deleteBatchRow(client, id, row.status);
    await removeBatchLeftovers(client, [id]);
    return { id, jobs: row.total, status: row.status };
  });
  // lists and an open batch page refetch: the batch is gone from them
  notifyBatch(id, deleted.status);
  return { id: deleted.id, jobs: deleted.jobs };
}

/** After deleting batches: their inline datasets (unless another batch uses one) and their own rate limits. */
export async function removeBatchLeftovers(client: pg.ClientBase, ids: string[]): Promise<void> {
  if (!ids.length) return;
  await deleteUnusedInlineDatasets(client, ids.map((id) => `inline:${id}`));
  // a shared key stays: other batches may name it again
  await deleteRateLimits(client, ids.map((id) => `batch:${id}`));
}
