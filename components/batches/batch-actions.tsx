"use client";

import Link from "next/link";
import { useState } from "react";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { DeleteBatchButton } from "./delete-batch";
import { api } from "@/lib/client/api";
import { useBatchAction, useRetryBatch } from "@/lib/client/hooks";
import { isActiveBatch, type Batch } from "@/lib/client/types";

type Pending = "cancel" | "pause" | "resume" | "retry" | null;

/** Cancel, pause/resume, retry and export, each behind a confirmation. */
export function BatchActions({ batch }: { batch: Batch }) {
  const [pending, setPending] = useState<Pending>(null);
  const [alsoOthers, setAlsoOthers] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const cancel = useBatchAction(batch.id, "cancel");
  const pause = useBatchAction(batch.id, "pause");
  const resume = useBatchAction(batch.id, "resume");
  const retry = useRetryBatch(batch.id);
  const active = isActiveBatch(batch.status);
  const p = batch.progress;
  const notRun = p.cancelled + p.skipped;
  // with no failed jobs the cancelled and skipped ones are what a retry would take
  const withOthers = alsoOthers || p.failed === 0;
  const retryable = p.failed + (withOthers ? notRun : 0);
  const close = () => {
    setPending(null);
    [cancel, pause, resume, retry].forEach((m) => m.reset());
  };
  const current = pending === "cancel" ? cancel : pending === "pause" ? pause : pending === "resume" ? resume : retry;

  return (
    <div className="page-actions" role="group" aria-label="Batch actions">
      {batch.status === "paused" ? (
        <button type="button" className="btn" onClick={() => setPending("resume")}>
          Resume
        </button>
      ) : active ? (
        <button type="button" className="btn" onClick={() => setPending("pause")}>
          Pause
        </button>
      ) : null}
      {p.failed === 0 && notRun > 0 ? (
        <button type="button" className="btn" onClick={() => setPending("retry")}>
          Retry cancelled
        </button>
      ) : (
        <button
          type="button"
          className="btn"
          disabled={p.failed === 0}
          title={p.failed === 0 ? "No job has failed: there is nothing to retry" : undefined}
          onClick={() => setPending("retry")}
        >
          Retry failed
        </button>
      )}
      {active ? (
        <button type="button" className="btn btn-danger" onClick={() => setPending("cancel")}>
          Cancel batch
        </button>
      ) : null}
      <Link className="btn" href={`/batches/new?from=${encodeURIComponent(batch.id)}`}>
        Run again…
      </Link>
      <Link
        className="btn"
        href={
          batch.parent_id
            ? `/compare?a=${encodeURIComponent(batch.parent_id)}&b=${encodeURIComponent(batch.id)}`
            : `/compare?a=${encodeURIComponent(batch.id)}`
        }
      >
        Compare with…
      </Link>
      <DeleteBatchButton batch={batch} />
      <details className="menu">
        <summary className="btn">Export</summary>
        <div className="menu-items" role="menu">
          <a role="menuitem" href={api.resultsUrl(batch.id, "jsonl")} download={`${batch.id}.jsonl`}>
            Results as JSONL
          </a>
          <a role="menuitem" href={api.resultsUrl(batch.id, "csv")} download={`${batch.id}.csv`}>
            Results as CSV
          </a>
          <a role="menuitem" href={api.resultsUrl(batch.id, "openai")} download={`${batch.id}.openai.jsonl`}>
            OpenAI batch format
          </a>
          <a role="menuitem" href={api.resultsUrl(batch.id, "zip")} download={`${batch.id}-results.zip`}>
            Folder as zip (processed, raw, summary)
          </a>
        </div>
      </details>
      {notice ? (
        <span className="muted small" role="status">
          {notice}
        </span>
      ) : null}

      <ConfirmDialog
        open={pending !== null}
        title={
          pending === "cancel"
            ? "Cancel this batch?"
            : pending === "pause"
              ? "Pause this batch?"
              : pending === "resume"
                ? "Resume this batch?"
                : "Retry jobs?"
        }
        confirmLabel={pending === "cancel" ? "Cancel batch" : pending === "pause" ? "Pause" : pending === "resume" ? "Resume" : `Retry ${retryable.toLocaleString("en-US")} ${retryable === 1 ? "job" : "jobs"}`}
        danger={pending === "cancel"}
        busy={current.isPending}
        disabled={pending === "retry" && retryable === 0}
        error={current.error ? (current.error as Error).message : null}
        onClose={close}
        onConfirm={() => {
          const done = { onSuccess: () => setPending(null) };
          if (pending === "cancel") cancel.mutate(undefined, done);
          else if (pending === "pause") pause.mutate(undefined, done);
          else if (pending === "resume") resume.mutate(undefined, done);
          else if (pending === "retry")
            retry.mutate(withOthers ? ["failed", "cancelled", "skipped"] : ["failed"], {
              onSuccess: (r) => {
                setPending(null);
                setNotice(`${r.retried.toLocaleString("en-US")} ${r.retried === 1 ? "job" : "jobs"} queued again`);
              },
            });
        }}
      >
        {pending === "cancel" ? (
          <p>Running jobs are stopped and pending jobs will not run. Finished results are kept.</p>
        ) : pending === "pause" ? (
          <p>No new jobs start until you resume; running jobs finish.</p>
        ) : pending === "resume" ? (
          <p>Pending jobs start again.</p>
        ) : (
          <>
            {p.failed > 0 ? (
              <p>
                {p.failed.toLocaleString("en-US")} failed jobs go back to pending and run again with fresh attempts.
              </p>
            ) : (
              <p>
                No job failed. {notRun.toLocaleString("en-US")} cancelled or skipped {notRun === 1 ? "job goes" : "jobs go"} back
                to pending and run again.
              </p>
            )}
            {p.failed > 0 && notRun > 0 ? (
              <label className="check">
                <input type="checkbox" checked={alsoOthers} onChange={(e) => setAlsoOthers(e.target.checked)} /> Also retry{" "}
                {notRun.toLocaleString("en-US")} cancelled and skipped jobs
              </label>
            ) : null}
          </>
        )}
      </ConfirmDialog>
    </div>
  );
}
