"use client";
// The side panel for one job: its record, result, error, each attempt, logs and prompts.
import Link from "next/link";
import { useEffect, useRef } from "react";
import { JsonView } from "@/components/ui/json-view";
import { Loading, QueryError } from "@/components/ui/query-state";
import { JobStatusBadge, StatusBadge } from "@/components/ui/status-badge";
import { formatCost, formatMs, formatTime } from "@/lib/client/format";
import { isFinishedJob } from "@/lib/contract/statuses";
import { useJob, useJobAction } from "@/lib/client/hooks";

/** The upstream response a flow kept in its result ({ response: {status_code, request_id, body} }), or null. */
function keptResponse(result: unknown): { status_code: number; request_id: string; body: unknown } | null {
  const r = (result as { response?: unknown } | null)?.response as { status_code?: unknown; request_id?: unknown; body?: unknown } | undefined;
  if (!r || typeof r !== "object" || typeof r.status_code !== "number" || typeof r.request_id !== "string" || !("body" in r)) return null;
  return { status_code: r.status_code, request_id: r.request_id, body: r.body };
}

export function JobPanel({ batchId, recordId, onClose, saveRaw = false }: { batchId: string; recordId: string; onClose: () => void; /** the batch keeps raw provider responses (save_raw) */ saveRaw?: boolean }) {
  const job = useJob(batchId, recordId);
  const retry = useJobAction(batchId, recordId, "retry");
  const cancel = useJobAction(batchId, recordId, "cancel");
  const closeRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    // focus the panel only when opened from a click; keyboard users keep moving through the rows
    if (!(document.activeElement instanceof HTMLTableRowElement)) closeRef.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [recordId, onClose]);

  const j = job.data;
  const raw = saveRaw && j ? keptResponse(j.result) : null;
  const finished = j && isFinishedJob(j.status);
  const actionError = (retry.error ?? cancel.error) as Error | null;
  return (
    <aside className="side-panel" role="dialog" aria-modal="false" aria-label={`Job ${recordId}`}>
      <header className="side-panel-head">
        <div>
          <div className="muted small">Job</div>
          <h2 className="mono">{recordId}</h2>
        </div>
        <button ref={closeRef} type="button" className="btn btn-ghost" aria-label="Close job panel" onClick={onClose}>
          ✕
        </button>
      </header>
      {job.isLoading ? (
        <Loading label="Loading job…" />
      ) : job.isError ? (
        <QueryError error={job.error} onRetry={() => void job.refetch()} what="this job" />
      ) : j ? (
        <div className="side-panel-body">
          <dl className="facts">
            <dt>Status</dt>
            <dd>
              <JobStatusBadge job={j} />
            </dd>
            {j.cached_from ? (
              <>
                <dt>Reused from</dt>
                <dd>
                  <Link href={`/batches/${encodeURIComponent(j.cached_from)}?job=${encodeURIComponent(recordId)}`} className="mono">
                    {j.cached_from}
                  </Link>{" "}
                  <span className="muted small">the flow did not run</span>
                </dd>
              </>
            ) : null}
            <dt>Attempts</dt>
            <dd>{j.attempts}</dd>
            <dt title="runs lost to a crash of their worker: run again without counting an attempt">Interruptions</dt>
            <dd>{j.interruptions}</dd>
            <dt>Cost</dt>
            <dd>{formatCost(j.cost)}</dd>
            <dt>Duration</dt>
            <dd>{formatMs(j.duration_ms)}</dd>
            <dt>Started</dt>
            <dd>{formatTime(j.started_at)}</dd>
            <dt>Finished</dt>
            <dd>{formatTime(j.finished_at)}</dd>
            {j.run_at && !finished ? (
              <>
                <dt>Next run</dt>
                <dd>{formatTime(j.run_at)}</dd>
              </>
            ) : null}
            <dt>Position</dt>
            <dd>{j.position}</dd>
          </dl>
          <div className="form-row">
            {j.status === "failed" || j.status === "cancelled" || j.status === "skipped" ? (
              <button type="button" className="btn" disabled={retry.isPending} onClick={() => retry.mutate()}>
                Retry job
              </button>
            ) : null}
            {!finished ? (
              <button type="button" className="btn btn-danger" disabled={cancel.isPending} onClick={() => cancel.mutate()}>
                Cancel job
              </button>
            ) : null}
            {actionError ? (
              <span className="field-error" role="alert">
                {actionError.message}
              </span>
            ) : null}
          </div>
          {j.error ? (
            <section className="panel-section">
              <h3>Error</h3>
              <div className="alert alert-error">
                <span className="mono">{j.error.code}</span>: {j.error.message}
                <div className="muted small">{j.error.retryable ? "retryable" : "not retryable"}</div>
              </div>
            </section>
          ) : null}
          {j.attempt_history?.length ? (
            <section className="panel-section">
              <h3>Attempts</h3>
              <div className="table-wrap">
              <table aria-label="Attempts">
                <thead>
                  <tr>
                    <th scope="col">#</th>
                    <th scope="col">Started</th>
                    <th scope="col">Ended</th>
                    <th scope="col">Outcome</th>
                    <th scope="col">Error</th>
                  </tr>
                </thead>
                <tbody>
                  {j.attempt_history.map((a) => (
                    <tr key={a.attempt}>
                      <td>{a.attempt}</td>
                      <td>{formatTime(a.started_at)}</td>
                      <td title={a.duration_ms === null ? undefined : formatMs(a.duration_ms)}>{formatTime(a.finished_at)}</td>
                      <td>{a.outcome === "retried" ? "failed, retried" : a.outcome}</td>
                      <td className="mono">{a.error ? `${a.error.code}: ${a.error.message}` : ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              </div>
            </section>
          ) : null}
          <section className="panel-section">
            <h3>Result</h3>
            {j.result === null || j.result === undefined ? <p className="muted">No result.</p> : <JsonView value={j.result} label="Result" />}
          </section>
          {raw ? (
            <section className="panel-section" aria-label="Provider response">
              <h3>Provider response</h3>
              <p className="muted small">
                HTTP {raw.status_code}
                {raw.request_id ? (
                  <>
                    , request <code>{raw.request_id}</code>
                  </>
                ) : null}
              </p>
              <JsonView value={raw.body} label="Provider response" />
            </section>
          ) : null}
          <section className="panel-section">
            <h3>Record</h3>
            <JsonView value={j.record} label="Record" />
          </section>
          {j.prompts?.length ? (
            <section className="panel-section">
              <h3>Prompts</h3>
              <ul className="plain-list">
                {j.prompts.map((p) => (
                  <li key={p.id}>
                    <StatusBadge status={p.status} /> {p.question}
                    {p.status === "answered" ? (
                      <div className="muted small">
                        Answer: <span className="mono">{JSON.stringify(p.answer)}</span>
                        {p.answered_by ? ` by ${p.answered_by}` : ""}
                      </div>
                    ) : p.status === "open" ? (
                      <div className="small">
                        <Link href="/inbox">Answer in the Inbox</Link>
                      </div>
                    ) : null}
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
          <section className="panel-section">
            <h3>Log</h3>
            {j.logs?.length ? (
              <ol className="log-lines">
                {j.logs.map((l, i) => (
                  <li key={i} className={`log-${l.level}`}>
                    <span className="muted">{formatTime(l.at)}</span> <span className="log-level">{l.level}</span> {l.message}
                  </li>
                ))}
              </ol>
            ) : (
              <p className="muted">No log lines.</p>
            )}
          </section>
        </div>
      ) : null}
    </aside>
  );
}
