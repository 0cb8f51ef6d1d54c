"use client";
// Deleting a dataset, behind a confirmation; a batch still using it is named in the refusal.
import { useRouter } from "next/navigation";
import { useState } from "react";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { ApiError } from "@/lib/client/api";
import { useDeleteDataset } from "@/lib/client/hooks";
import type { Dataset } from "@/lib/client/types";

export function DeleteDatasetButton({ dataset }: { dataset: Dataset }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const del = useDeleteDataset(dataset.id);
  const error = del.error instanceof ApiError ? [del.error.message, ...del.error.details.map((d) => d.message)].join(": ") : del.error ? String(del.error) : null;
  return (
    <>
      <button type="button" className="btn btn-danger" onClick={() => setOpen(true)}>
        Delete…
      </button>
      <ConfirmDialog
        open={open}
        title="Delete this dataset?"
        confirmLabel="Delete dataset"
        danger
        busy={del.isPending}
        error={error}
        onClose={() => {
          setOpen(false);
          del.reset();
        }}
        onConfirm={() => del.mutate(undefined, { onSuccess: () => router.push("/datasets") })}
      >
        <p>
          <strong>{dataset.name}</strong> and its {dataset.record_count.toLocaleString("en-US")} records are deleted for good. Finished
          batches that ran on it keep their jobs and results; a batch still running on it stops the delete.
        </p>
      </ConfirmDialog>
    </>
  );
}
