"use client";
// Retry or cancel many jobs: the ones ticked in the table, or every job the current filter matches
// (all selected by the header checkbox, or none ticked), sent as the filter so unloaded rows count too. The API says how many changed and which statuses each action applies to.
import { memo, useState } from "react";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { countOf, formatCount } from "@/lib/client/format";
import { useBulkJobs } from "@/lib/client/hooks";
import type { BulkJobsBody } from "@/lib/client/types";

type Action = "retry" | "cancel";

const APPLIES = { retry: "failed and cancelled", cancel: "pending and waiting (for input or at the provider)" } as const;

/** Memoised: the jobs table renders again on every scroll step, the bar only when its props change. */
export const BulkBar = memo(function BulkBar({
  batchId,
  selected,
  all,
  shownTotal,
  filter,
  onDone,
}: {
  batchId: string;
  selected: string[];
  /** every job the filter matches is selected (the header checkbox): acts by the filter */
  all: boolean;
  /** how many jobs the filter matches (all pages) */
  shownTotal: number | undefined;
  filter: NonNullable<BulkJobsBody["filter"]>;
  onDone: () => void;
}) {
  const [pending, setPending] = useState<Action | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const bulk = useBulkJobs(batchId);
  const ids = !all && selected.length > 0;
  const some = all || ids;
  const jobs = countOf(shownTotal ?? 0, "job", "jobs");
  const what = ids ? countOf(selected.length, "selected job", "selected jobs") : all ? `all ${jobs} selected` : `all ${jobs} shown`;
  const run = (action: Action) =>
    bulk.mutate(ids ? { action, record_ids: selected } : { action, filter }, {
      onSuccess: (r) => {
        setPending(null);
        setNotice(r.message);
        onDone();
      },
    });
  return (
    <div className="bulk-bar" role="group" aria-label="Bulk actions">
      <span className="muted small">
        {all ? `All ${jobs} selected, loaded or not` : ids ? `${formatCount(selected.length)} selected` : "None selected: acts on every job shown"}
      </span>
      <button type="button" className="btn btn-sm" disabled={!some && !shownTotal} onClick={() => setPending("retry")}>
        {some ? "Retry selected" : "Retry all shown"}
      </button>
      <button type="button" className="btn btn-sm btn-danger" disabled={!some && !shownTotal} onClick={() => setPending("cancel")}>
        {some ? "Cancel selected" : "Cancel all shown"}
      </button>
      {notice ? (
        <span className="small" role="status">
          {notice}
        </span>
      ) : null}
      <ConfirmDialog
        open={pending !== null}
        title={pending === "retry" ? "Retry jobs?" : "Cancel jobs?"}
        confirmLabel={pending === "retry" ? "Retry" : "Cancel jobs"}
        danger={pending === "cancel"}
        busy={bulk.isPending}
        error={bulk.error ? (bulk.error as Error).message : null}
        onClose={() => {
          setPending(null);
          bulk.reset();
        }}
        onConfirm={() => pending && run(pending)}
      >
        {pending ? (
          <p>
            {pending === "retry" ? "Retry" : "Cancel"} {what}. This applies only to {APPLIES[pending]} jobs; the others are left as they
            are.
          </p>
        ) : null}
      </ConfirmDialog>
    </div>
  );
});
