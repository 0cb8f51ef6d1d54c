"use client";
// A batch's jobs, one keyset page at a time (a million-job batch loads 100 rows, not a million).
import { useState } from "react";
import { LoadMore, Loading, QueryError } from "@/components/ui/query-state";
import { JobStatusBadge } from "@/components/ui/status-badge";
import { formatCost, formatMs, formatTime } from "@/lib/client/format";
import { useJobs } from "@/lib/client/hooks";
import { JOB_STATUSES, type BatchProgress, type Job, type JobStatus } from "@/lib/client/types";
import { useDebounced } from "@/lib/client/use-debounced";
import { BulkBar } from "./bulk-bar";

export function JobsTable({
  batchId,
  progress,
  status,
  onStatusChange,
  selected,
  onSelect,
  poll,
}: {
  batchId: string;
  progress: BatchProgress;
  status: string;
  onStatusChange: (s: string) => void;
  selected: string | null;
  onSelect: (recordId: string) => void;
  poll: boolean;
}) {
  const [q, setQ] = useState("");
  const [sort, setSort] = useState<"ordinal" | "finished">("ordinal");
  const search = useDebounced(q.trim());
  const jobs = useJobs(batchId, { status, q: search, sort, limit: 100 }, poll);
  const items = jobs.data?.pages.flatMap((p) => p.items) ?? [];
  const total = jobs.data?.pages[0]?.total;
  // ticked jobs, by record id; a new filter starts a new selection
  const [ticked, setTicked] = useState<Set<string>>(new Set());
  const filterKey = `${status}\u0000${search}`;
  const [tickedFor, setTickedFor] = useState(filterKey);
  if (tickedFor !== filterKey) {
    setTickedFor(filterKey);
    setTicked(new Set());
  }
  const allTicked = items.length > 0 && items.every((j) => ticked.has(j.record_id));
  const tick = (id: string, on: boolean) =>
    setTicked((t) => {
      const next = new Set(t);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  return (
    <section className="jobs" aria-labelledby="jobs-title">
      <div className="toolbar">
        <h2 id="jobs-title">Jobs</h2>
        <label className="inline-field">
          <span>Status</span>
          <select aria-label="Job status" value={status} onChange={(e) => onStatusChange(e.target.value)}>
            <option value="">All ({progress.total.toLocaleString("en-US")})</option>
            {JOB_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace("_", " ")} ({((progress[s] ?? 0) + (s === "running" ? progress.reserved : 0)).toLocaleString("en-US")})
              </option>
            ))}
          </select>
        </label>
        <label className="inline-field">
          <span>Order</span>
          <select aria-label="Job order" value={sort} onChange={(e) => setSort(e.target.value as "ordinal" | "finished")}>
            <option value="ordinal">Run order</option>
            <option value="finished">Recently finished</option>
          </select>
        </label>
        <input type="search" className="search" aria-label="Search jobs" placeholder="Record id…" value={q} onChange={(e) => setQ(e.target.value)} />
        {jobs.isFetching && !jobs.isLoading ? <span className="muted small">updating…</span> : null}
      </div>
      <BulkBar
        batchId={batchId}
        selected={[...ticked]}
        shownTotal={total}
        filter={{ status: status ? [status as JobStatus] : undefined, q: search || undefined }}
        onDone={() => setTicked(new Set())}
      />
      {jobs.isLoading ? (
        <Loading label="Loading jobs…" />
      ) : jobs.isError && !items.length ? (
        <QueryError error={jobs.error} onRetry={() => void jobs.refetch()} what="jobs" />
      ) : items.length === 0 ? (
        <div className="empty-state" role="status">
          <h2>{status || search ? "No jobs match" : "No jobs"}</h2>
        </div>
      ) : (
        <div className="table-wrap">
          <table aria-label="Jobs" aria-describedby="jobs-keys">
            <thead>
              <tr>
                <th className="cell-check">
                  <input
                    type="checkbox"
                    aria-label="Select all jobs on this page"
                    checked={allTicked}
                    onChange={(e) => setTicked(e.target.checked ? new Set(items.map((j) => j.record_id)) : new Set())}
                  />
                </th>
                <th className="num">#</th>
                <th>Record</th>
                <th>Status</th>
                <th className="num">Attempts</th>
                <th className="num">Duration</th>
                <th className="num">Cost</th>
                <th>Result</th>
                <th>Finished</th>
              </tr>
            </thead>
            <tbody>
              {items.map((j) => (
                <tr
                  key={j.record_id}
                  data-record-id={j.record_id}
                  className="clickable"
                  tabIndex={0}
                  aria-selected={selected === j.record_id}
                  onClick={() => onSelect(j.record_id)}
                  onKeyDown={(e) => {
                    if (e.key === "Enter" || e.key === " ") {
                      e.preventDefault();
                      onSelect(j.record_id);
                    } else if (e.key === "ArrowDown" || e.key === "j" || e.key === "ArrowUp" || e.key === "k") {
                      // move between rows; with the panel open, follow along
                      e.preventDefault();
                      const down = e.key === "ArrowDown" || e.key === "j";
                      const row = (down ? e.currentTarget.nextElementSibling : e.currentTarget.previousElementSibling) as HTMLElement | null;
                      row?.focus();
                      const id = row?.dataset.recordId;
                      if (id && selected) onSelect(id);
                    }
                  }}
                >
                  <td className="cell-check" onClick={(e) => e.stopPropagation()}>
                    <input
                      type="checkbox"
                      aria-label={`Select job ${j.record_id}`}
                      checked={ticked.has(j.record_id)}
                      onChange={(e) => tick(j.record_id, e.target.checked)}
                      onKeyDown={(e) => e.stopPropagation()}
                    />
                  </td>
                  <td className="num muted">{j.ordinal + 1}</td>
                  <td className="mono cell-record">{j.record_id}</td>
                  <td>
                    <JobStatusBadge job={j} />
                    {j.cached_from ? (
                      <span className="tag" title={`result reused from batch ${j.cached_from}: the flow did not run`}>
                        cached
                      </span>
                    ) : null}
                  </td>
                  <td className="num">
                    {j.attempts}
                    {j.interruptions > 0 ? (
                      <span className="muted small" title="runs lost to a crash of their worker: run again without counting an attempt">
                        {" "}
                        · {j.interruptions} interrupted
                      </span>
                    ) : null}
                  </td>
                  <td className="num">{formatMs(j.duration_ms)}</td>
                  <td className="num">{formatCost(j.cost)}</td>
                  <ResultCell job={j} />
                  <td>{formatTime(j.finished_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p id="jobs-keys" className="visually-hidden">Arrow keys or J and K move between jobs; Enter opens one.</p>
          <LoadMore
            hasNextPage={!!jobs.hasNextPage}
            isFetchingNextPage={jobs.isFetchingNextPage}
            fetchNextPage={() => void jobs.fetchNextPage()}
            shown={items.length}
            total={total}
            noun="jobs"
          />
        </div>
      )}
    </section>
  );
}

/** The result's start or the error, on one line cut to the cell; the whole text in the tooltip. */
function ResultCell({ job: j }: { job: Job }) {
  if (j.error) {
    const text = `${j.error.code}: ${j.error.message}`;
    return (
      <td className="cell-preview cell-error" title={text.slice(0, 2000)}>
        <span className="mono">{j.error.code}</span> {j.error.message}
      </td>
    );
  }
  return (
    <td className="cell-preview mono small" title={j.result_preview ?? undefined}>
      {j.result_preview ?? <span className="muted">—</span>}
    </td>
  );
}
