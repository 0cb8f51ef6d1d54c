"use client";
// Deleting a dataset, behind a confirmation; a batch still using it is named in the refusal.
import { DeleteButton } from "@/components/ui/delete-button";
import { useDeleteDataset } from "@/lib/client/hooks";
import type { Dataset } from "@/lib/client/types";

export function DeleteDatasetButton({ dataset }: { dataset: Dataset }) {
  const del = useDeleteDataset(dataset.id);
  return (
    <DeleteButton noun="dataset" mutation={del} leaveTo="/datasets">
      <p>
        <strong>{dataset.name}</strong> and its {dataset.record_count.toLocaleString("en-US")} records are deleted for good. Finished
        batches that ran on it keep their jobs and results; a batch still running on it stops the delete.
      </p>
    </DeleteButton>
  );
}
