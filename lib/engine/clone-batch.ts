// Running a batch again: a new batch, made like any other from a full creation input, whose records
// are the parent's dataset (or another) narrowed to a selection, and which records its parent.
import { setBatchParent } from "@/lib/db/sql/batches";
import { createBatch, type CreateBatchInput } from "./create-batch";
import { getBatch, type BatchDetail } from "./batches";
import type { JobStatus, RecordSelection } from "./types";

/** Which of the parent's records run again. */
export type CloneSelection = "all" | "failed" | "cancelled" | string[];

const STATUSES: Record<"failed" | "cancelled", JobStatus[]> = { failed: ["failed"], cancelled: ["cancelled"] };

export function selectionOf(parentId: string, selection: CloneSelection): RecordSelection | undefined {
  if (selection === "all") return undefined;
  if (Array.isArray(selection)) return { recordIds: selection };
  return { batchId: parentId, statuses: STATUSES[selection] };
}

/**
 * Creates the child batch. `input` is complete (the parent's settings with the caller's changes);
 * its source is the dataset given, or the parent's, narrowed to the selection. The parent link is
 * written in the creating transaction, so a child never exists without it.
 */
export async function cloneBatch(parent: BatchDetail, input: Omit<CreateBatchInput, "source">, dataset: string | null, selection: CloneSelection): Promise<BatchDetail> {
  const created = await createBatch(
    { ...input, source: { kind: "dataset", dataset: dataset ?? parent.datasetId!, only: selectionOf(parent.id, selection) } },
    { beforeCommit: (client, b) => setBatchParent(client, b.id, parent.id) },
  );
  return getBatch(created.id);
}
