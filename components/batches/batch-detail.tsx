"use client";
// One batch, live: its summary follows /api/batches/{id}/events; polling only stands in while the
// stream is down and the batch is still active.
import dynamic from "next/dynamic";
import Link from "next/link";
import { useQueryClient } from "@tanstack/react-query";
import { memo, useCallback, useEffect, useRef, useState } from "react";
import { ProgressBar } from "@/components/ui/progress-bar";
import { Loading, QueryError } from "@/components/ui/query-state";
import { BatchStatusBadge } from "@/components/ui/status-badge";
import { isNotFound } from "@/lib/client/api";
import { formatCost, formatCount, formatDuration, formatRate, formatStatus, formatTime, rateLimitNowText, rateLimitText } from "@/lib/client/format";
import { formatShare, headline, outcomeDetail } from "@/lib/client/outcome";
import { useBatch, useMetrics, usePrefetchFirstJobs } from "@/lib/client/hooks";
import { batchKeys, jobKeys } from "@/lib/client/keys";
import { useBatchEvents } from "@/lib/client/sse";
import { useUrlParams } from "@/lib/client/use-url-params";
import { useHeldWhileScrolling } from "@/lib/client/scroll-activity";
import { isActiveBatch, type Batch, type Metrics } from "@/lib/client/types";
import { BatchActions } from "./batch-actions";
import { BatchConfiguration } from "./batch-config";
import { JobPanel } from "./job-panel";
import { JobsTable } from "./jobs-table";
import { Lineage } from "./lineage";
import { ProviderBatches, sendsToProvider } from "./provider-batches";

// recharts measures the DOM: render it in the browser only (memoised there: drawn again only for new metrics)
const BatchCharts = dynamic(() => import("./batch-charts").then((m) => m.BatchCharts), {
  ssr: false,
  loading: () => <p className="muted chart-empty">Loading charts…</p>,
});

const BatchSummaryPanel = dynamic(() => import("./batch-summary").then((m) => m.BatchSummaryPanel), { ssr: false });

const LEGEND = ["succeeded", "failed", "running", "waiting_input", "waiting_provider", "pending", "cancelled", "skipped"] as const;
/** shown only when some job is in them: most batches never send anything to a provider's batch tier */
const LEGEND_WHEN_ANY = new Set<string>(["waiting_provider"]);
/** a state's words where its name would not say it to a reader */
const LEGEND_LABELS: Partial<Record<(typeof LEGEND)[number], string>> = { waiting_provider: "at the provider" };

export function BatchDetail({ id }: { id: string }) {
  const batch = useBatch(id);
  usePrefetchFirstJobs(id);
  const stream = useBatchEvents(id, batch.data?.status);
  const active = isActiveBatch(batch.data?.status);
  const fallback = stream.failed && active;
  // a second observer of the same query that polls only while the stream is down
  useBatch(id, { streamFailed: stream.failed });
  // the first screen is the header, progress and the first job rows: the summary (a scan of every
  // result, seconds on a batch of a million) and the charts are asked for once the jobs have answered
  const [restWanted, setRestWanted] = useState(false);
  const wantRest = useCallback(() => setRestWanted(true), []);
  const metrics = useMetrics(id, fallback, restWanted);
  useRefreshWhenFinished(id, batch.data?.status);
  const [jobStatus, setJobStatus] = useState("");
  // the open job is in the URL (?job=<record id>): a link can point at one job's panel
  const [urlParams, setUrlParams] = useUrlParams();
  const selected = urlParams.get("job");
  const setSelected = useCallback((recordId: string | null) => setUrlParams({ job: recordId }), [setUrlParams]);
  const closePanel = useCallback(() => setSelected(null), [setSelected]);

  if (batch.isLoading) return <Loading label="Loading batch…" />;
  if (isNotFound(batch.error)) {
    return (
      <section className="empty-state" role="status">
        <h1>Batch not found</h1>
        <p>
          No batch has the id <code>{id}</code>. It may have been deleted. <Link href="/batches">Back to all batches</Link>
        </p>
      </section>
    );
  }
  if (!batch.data) return <QueryError error={batch.error} onRetry={() => void batch.refetch()} what="this batch" />;
  const b = batch.data;

  return (
    <div className={selected ? "with-panel" : undefined}>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link href="/batches">Batches</Link> <span aria-hidden>/</span> <span className="mono">{b.id}</span>
      </nav>
      <div className="page-header">
        <div>
          <h1>
            {b.name || b.flow} <BatchStatusBadge batch={b} />
            {b.options.dry_run ? <span className="tag">dry run</span> : null}
          </h1>
          <p className="muted">
            flow <strong>{b.flow}</strong> · created {formatTime(b.timing.created_at)}
            {b.dataset_id ? (
              <>
                {" "}
                · dataset <Link href={`/datasets/${b.dataset_id}`}>{b.dataset_id}</Link>
              </>
            ) : null}
            {" · "}
            <LiveDot active={active} failed={stream.failed} />
          </p>
          <Lineage batch={b} />
          {outcomeDetail(b) ? (
            <p className="stop-reason" role="note">
              {outcomeDetail(b)}
            </p>
          ) : null}
        </div>
        <BatchActions batch={b} />
      </div>

      {b.progress.waiting_input > 0 ? (
        <p className="notice" role="note">
          {formatCount(b.progress.waiting_input)} {b.progress.waiting_input === 1 ? "job waits" : "jobs wait"} for an answer —{" "}
          <Link href={`/inbox?batch=${encodeURIComponent(b.id)}`}>open the Inbox</Link>
        </p>
      ) : null}

      <Summary batch={b} onPickStatus={setJobStatus} />

      {restWanted ? <BatchSummaryPanel batch={b} poll={fallback} /> : null}

      <BatchConfiguration batch={b} />

      {sendsToProvider(b) ? <ProviderBatches batchId={b.id} poll={isActiveBatch(b.status)} changed={`${b.status}:${b.progress.waiting_provider}`} /> : null}

      <ChartsSection metrics={metrics.data} error={metrics.isError ? (metrics.error as Error) : null} />

      <JobsTable
        batchId={b.id}
        progress={b.progress}
        status={jobStatus}
        onStatusChange={setJobStatus}
        selected={selected}
        onSelect={setSelected}
        poll={fallback}
        live={active}
        onFirstPage={wantRest}
      />
      {selected ? <JobPanel key={selected} batchId={b.id} recordId={selected} onClose={closePanel} saveRaw={b.options.save_raw} /> : null}
    </div>
  );
}

/**
 * When the batch turns terminal, everything derived from its jobs is read again: the stream's `end`
 * event can be lost (the stream closes as soon as the terminal snapshot lands) and polling stops with
 * the batch, so without this the results, jobs and charts could keep showing the last running state.
 */
function useRefreshWhenFinished(id: string, status: Batch["status"] | undefined) {
  const qc = useQueryClient();
  const seen = useRef(status);
  useEffect(() => {
    const was = seen.current;
    seen.current = status;
    if (!was || !status || was === status || !isActiveBatch(was) || isActiveBatch(status)) return;
    void qc.invalidateQueries({ queryKey: jobKeys.batch(id) });
    void qc.invalidateQueries({ queryKey: batchKeys.summaries(id) });
    void qc.invalidateQueries({ queryKey: batchKeys.metrics(id) });
    void qc.invalidateQueries({ queryKey: batchKeys.providerBatches(id) });
  }, [qc, id, status]);
}

/**
 * The metrics charts. New metrics arriving while the jobs table scrolls are drawn once it rests, as
 * the Results panel's are (lib/client/scroll-activity).
 */
const ChartsSection = memo(function ChartsSection({ metrics, error }: { metrics: Metrics | undefined; error: Error | null }) {
  const shown = useHeldWhileScrolling(metrics);
  return (
    <section aria-label="Charts">
      {shown ? (
        <BatchCharts metrics={shown} />
      ) : error ? (
        <p className="muted chart-empty">Charts unavailable: {error.message}</p>
      ) : (
        <p className="muted chart-empty">Loading charts…</p>
      )}
    </section>
  );
});

function LiveDot({ active, failed }: { active: boolean; failed: boolean }) {
  if (!active) return <span className="live live-off">finished</span>;
  return failed ? <span className="live live-poll">polling</span> : <span className="live live-on">live</span>;
}

function Summary({ batch: b, onPickStatus }: { batch: Batch; onPickStatus: (s: string) => void }) {
  const p = b.progress;
  const budget = b.cost.max;
  const head = headline(b);
  return (
    <div className="summary">
      <section className="card summary-progress" aria-label="Progress by status">
        <div className="summary-head">
          <span className="big">{formatShare(head.percent)}</span>
          <span className="muted">{head.text}</span>
        </div>
        <ProgressBar batch={b} showCounts={false} />
        <ul className="legend">
          {LEGEND.filter((s) => !LEGEND_WHEN_ANY.has(s) || p[s] > 0).map((s) => (
            <li key={s}>
              <button type="button" className="legend-item" onClick={() => onPickStatus(s)} aria-label={`Show ${s.replace("_", " ")} jobs`}>
                <span className={`swatch bar-${s}`} aria-hidden />
                {LEGEND_LABELS[s] ?? formatStatus(s)} <strong>{formatCount(p[s])}</strong>
                {(s === "cancelled" || s === "skipped") && p[s] > 0 ? <span className="muted"> not run</span> : null}
                {s === "running" && p.reserved > 0 ? (
                  <span className="muted" title="claimed ahead by a worker: each starts in a slot of this batch as soon as one frees">
                    {" "}
                    +{formatCount(p.reserved)} reserved
                  </span>
                ) : null}
              </button>
            </li>
          ))}
        </ul>
      </section>
      <section className="card stat" aria-label="Cost">
        <div className="stat-label">Cost</div>
        <div className="stat-value">
          {formatCost(b.cost.spent)}
          {budget !== null ? <span className="muted"> of {formatCost(budget)}</span> : null}
        </div>
        {budget !== null && budget > 0 ? (
          <div className="meter" role="meter" aria-label="Budget used" aria-valuemin={0} aria-valuemax={budget} aria-valuenow={b.cost.spent}>
            <span style={{ width: `${Math.min(100, (b.cost.spent / budget) * 100)}%` }} className={b.cost.spent >= budget ? "bar-failed" : ""} />
          </div>
        ) : (
          <div className="muted small">no budget</div>
        )}
        {b.cost.projected_total !== null ? <div className="muted small">projected {formatCost(b.cost.projected_total)}</div> : null}
        {budget !== null && b.options.cost_reservation != null ? (
          <div className="muted small" title="each job's cost is counted against the budget before it starts">
            reserves {b.options.cost_reservation === "mean" ? "the mean cost" : formatCost(b.options.cost_reservation.per_record)} per job
          </div>
        ) : null}
        {b.reused.jobs > 0 ? (
          <div className="muted small" data-testid="reused">
            {formatCount(b.reused.jobs)} {b.reused.jobs === 1 ? "result" : "results"} reused · saved {formatCost(b.reused.saved_cost)}
          </div>
        ) : null}
      </section>
      <section className="card stat" aria-label="Rate">
        <div className="stat-label">Rate</div>
        <div className="stat-value">{formatRate(b.timing.items_per_second)}</div>
        <div className="muted small">
          concurrency {b.options.concurrency}
          {b.options.chunk_size > 1 ? ` · ${b.options.chunk_size} records per call` : ""}
        </div>
      </section>
      {b.rate_limit ? (
        <section className="card stat" aria-label="Rate limit">
          <div className="stat-label">Rate limit</div>
          <div className="small">{rateLimitText(b.rate_limit)}</div>
          {isActiveBatch(b.status) && rateLimitNowText(b.rate_limit) ? <div className="muted small">{rateLimitNowText(b.rate_limit)}</div> : null}
        </section>
      ) : null}
      <section className="card stat" aria-label="Time">
        <div className="stat-label">{isActiveBatch(b.status) ? "ETA" : "Took"}</div>
        <div className="stat-value">
          {isActiveBatch(b.status) ? formatDuration(b.timing.eta_seconds) : formatDuration(b.timing.duration_seconds)}
        </div>
        <div className="muted small">
          {b.timing.started_at ? `started ${formatTime(b.timing.started_at)}` : "not started"}
          {b.timing.completed_at ? ` · ended ${formatTime(b.timing.completed_at)}` : ""}
        </div>
      </section>
    </div>
  );
}
