"use client";
// "Delete…" and its confirmation, for anything deleted for good (a batch, a dataset): the dialog says
// what goes with it, shows the API's refusal with its details, and leaves for `leaveTo` once done.
import type { UseMutationResult } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState, type ReactNode } from "react";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { ApiError } from "@/lib/client/api";

export function DeleteButton({
  noun,
  mutation,
  leaveTo,
  children,
}: {
  /** "batch", "dataset": the dialog asks "Delete this <noun>?" and confirms with "Delete <noun>" */
  noun: string;
  mutation: UseMutationResult<unknown, unknown, void>;
  leaveTo: string;
  /** what is deleted with it */
  children: ReactNode;
}) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const e = mutation.error;
  const error = e instanceof ApiError ? [e.message, ...e.details.map((d) => d.message)].join(": ") : e ? (e instanceof Error ? e.message : String(e)) : null;
  return (
    <>
      <button type="button" className="btn btn-danger" onClick={() => setOpen(true)}>
        Delete…
      </button>
      <ConfirmDialog
        open={open}
        title={`Delete this ${noun}?`}
        confirmLabel={`Delete ${noun}`}
        danger
        busy={mutation.isPending}
        error={error}
        onClose={() => {
          setOpen(false);
          mutation.reset();
        }}
        onConfirm={() => mutation.mutate(undefined, { onSuccess: () => router.push(leaveTo) })}
      >
        {children}
      </ConfirmDialog>
    </>
  );
}
