"use client";
// Deleting a finished batch, behind a confirmation that says what goes with it.
import { DeleteButton } from "@/components/ui/delete-button";
import { useDeleteBatch } from "@/lib/client/hooks";
import { isActiveBatch, type Batch } from "@/lib/client/types";

export function DeleteBatchButton({ batch }: { batch: Batch }) {
  const del = useDeleteBatch(batch.id);
  if (isActiveBatch(batch.status)) return null;
  const jobs = batch.progress.total.toLocaleString("en-US");
  return (
    <DeleteButton noun="batch" mutation={del} leaveTo="/batches">
      <p>
        <strong>{batch.name || batch.id}</strong> and its {jobs} {batch.progress.total === 1 ? "job" : "jobs"}, with their results,
        attempts and questions, are deleted for good. Batches run again from it keep working.
      </p>
    </DeleteButton>
  );
}
