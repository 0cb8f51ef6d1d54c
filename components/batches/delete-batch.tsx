"use client";
// Deleting a finished batch, behind a confirmation that says what goes with it.
import { useRouter } from "next/navigation";
import { useState } from "react";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { useDeleteBatch } from "@/lib/client/hooks";
import { isActiveBatch, type Batch } from "@/lib/client/types";

export function DeleteBatchButton({ batch }: { batch: Batch }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const del = useDeleteBatch(batch.id);
  if (isActiveBatch(batch.status)) return null;
  const jobs = batch.progress.total.toLocaleString("en-US");
  return (
    <>
      <button type="button" className="btn btn-danger" onClick={() => setOpen(true)}>
        Delete…
      </button>
      <ConfirmDialog
        open={open}
        title="Delete this batch?"
        confirmLabel="Delete batch"
        danger
        busy={del.isPending}
        error={del.error ? (del.error as Error).message : null}
        onClose={() => {
          setOpen(false);
          del.reset();
        }}
        onConfirm={() => del.mutate(undefined, { onSuccess: () => router.push("/batches") })}
      >
        <p>
          <strong>{batch.name || batch.id}</strong> and its {jobs} {batch.progress.total === 1 ? "job" : "jobs"}, with their results,
          attempts and questions, are deleted for good. Batches run again from it keep working.
        </p>
      </ConfirmDialog>
    </>
  );
}
