"use client";
// A batch's jobs, one keyset page at a time (a million-job batch loads 100 rows, not a million), in a
// scrolling window that renders only the rows in view: scrolling near the end of what is loaded
// fetches the next page by cursor, so tens of thousands of rows scroll as smoothly as a hundred.
import { useQueryClient } from "@tanstack/react-query";
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import { LoadMore, Loading, QueryError } from "@/components/ui/query-state";
import { JobStatusBadge } from "@/components/ui/status-badge";
import { countOf, formatCost, formatCount, formatMs, formatTime } from "@/lib/client/format";
import { JOBS_PAGE, useJobs } from "@/lib/client/hooks";
import { jobKeys, LIVE_JOB_PAGES } from "@/lib/client/keys";
import { JOB_STATUSES, type BatchProgress, type Job, type JobStatus } from "@/lib/client/types";
import { useDebounced } from "@/lib/client/use-debounced";
import { noteScroll } from "@/lib/client/scroll-activity";
import { useRowWindow } from "@/lib/client/use-window";
import { BulkBar } from "./bulk-bar";

/** Memoised: the batch page drawing something else (its charts, its summary) does not render the table again. */
export const JobsTable = memo(function JobsTable({
  batchId,
  progress,
  status,
  onStatusChange,
  selected,
  onSelect,
  poll,
  live,
  onFirstPage,
}: {
  batchId: string;
  progress: BatchProgress;
  status: string;
  onStatusChange: (s: string) => void;
  selected: string | null;
  onSelect: (recordId: string) => void;
  poll: boolean;
  /** the batch is still running: its rows change */
  live: boolean;
  /** called once the first page has answered (or failed): the page's slower panels load after it */
  onFirstPage?: () => void;
}) {
  const [q, setQ] = useState("");
  const [sort, setSort] = useState<"ordinal" | "finished">("ordinal");
  const search = useDebounced(q.trim());
  const input = { status, q: search, sort, limit: JOBS_PAGE };
  const jobs = useJobs(batchId, input, poll);
  const firstPageDone = !jobs.isLoading;
  useEffect(() => {
    if (firstPageDone) onFirstPage?.();
  }, [firstPageDone, onFirstPage]);
  // the same array until a page arrives: a scroll step re-renders this table, and 10,000 loaded rows are not copied again each time
  const pages = jobs.data?.pages;
  const items = useMemo(() => pages?.flatMap((p) => p.items) ?? [], [pages]);
  const total = jobs.data?.pages[0]?.total;
  // ticked jobs, by record id, or every job the filter matches (loaded or not: the bulk action then
  // sends the filter, not ids); a new filter starts a new selection
  const [ticked, setTicked] = useState<Set<string>>(new Set());
  const [allMatching, setAllMatching] = useState(false);
  const filterKey = `${status}\u0000${search}`;
  const [tickedFor, setTickedFor] = useState(filterKey);
  if (tickedFor !== filterKey) {
    setTickedFor(filterKey);
    setTicked(new Set());
    setAllMatching(false);
  }
  // scrolled past the pages a live list refreshes (LIVE_JOB_PAGES): the rows stay as loaded, and the
  // table says so with how many jobs finished since, until "Back to top" reloads from the first page
  const finished = progress.succeeded + progress.failed + progress.cancelled + progress.skipped;
  const deep = live && (jobs.data?.pages.length ?? 0) > LIVE_JOB_PAGES;
  const [pausedAt, setPausedAt] = useState<number | null>(null);
  if (deep && pausedAt === null) setPausedAt(finished);
  if (!deep && pausedAt !== null) setPausedAt(null);
  const qc = useQueryClient();
  const backToTop = () => {
    scroller.current?.scrollTo({ top: 0 });
    const key = jobKeys.list(batchId, input);
    qc.setQueryData(key, (d: { pages: unknown[]; pageParams: unknown[] } | undefined) =>
      d ? { pages: d.pages.slice(0, 1), pageParams: d.pageParams.slice(0, 1) } : d,
    );
    void qc.invalidateQueries({ queryKey: key, exact: true });
  };
  const scroller = useRef<HTMLDivElement>(null);
  const win = useRowWindow(scroller, items.length);
  const onScroll = () => {
    noteScroll(); // the page's charts wait for the scroll to rest
    win.onScroll();
  };
  // fetch the next page while the rows in view are within 100 of the end of what is loaded; checked
  // again whenever a fetch ends, since a refresh of the loaded rows can replace a next page asked for
  // in the same moment (nothing else here changes then, and the table would wait forever)
  const { hasNextPage, isFetching, isFetchingNextPage, fetchNextPage } = jobs;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && win.end >= items.length - 100) void fetchNextPage();
  }, [hasNextPage, isFetching, isFetchingNextPage, fetchNextPage, win.end, items.length]);
  // keyboard moves between rows by index: bring the row into view, then focus it once rendered
  const focusWanted = useRef<number | null>(null);
  useLayoutEffect(() => {
    const i = focusWanted.current;
    if (i === null) return;
    const row = scroller.current?.querySelector<HTMLElement>(`tr[data-index="${i}"]`);
    if (row) {
      focusWanted.current = null;
      row.focus();
    }
  });
  const moveTo = (i: number) => {
    if (i < 0) return;
    if (i >= items.length) {
      if (hasNextPage) {
        focusWanted.current = i; // focused once its page has loaded
        void fetchNextPage();
      }
      return;
    }
    win.scrollToRow(i);
    const row = scroller.current?.querySelector<HTMLElement>(`tr[data-index="${i}"]`);
    if (row) row.focus();
    else focusWanted.current = i; // rendered by the scroll: focused after that render
    if (selected) onSelect(items[i]!.record_id); // with the panel open, it follows
  };
  const itemsRef = useRef(items);
  const allRef = useRef(allMatching);
  useLayoutEffect(() => {
    itemsRef.current = items;
    allRef.current = allMatching;
  });
  const tick = useCallback((id: string, on: boolean) => {
    if (allRef.current) {
      // leaving "all": what stays ticked is what is loaded, less this one; the bar says how many
      setAllMatching(false);
      setTicked(new Set(itemsRef.current.map((j) => j.record_id).filter((r) => r !== id)));
      return;
    }
    setTicked((t) => {
      const next = new Set(t);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  }, []);

  // the bulk bar's props keep their identity while only the scroll position changes: it is not rendered again each frame
  const selectedIds = useMemo(() => [...ticked], [ticked]);
  const bulkFilter = useMemo(() => ({ status: status ? [status as JobStatus] : undefined, q: search || undefined }), [status, search]);
  const clearSelection = useCallback(() => {
    setTicked(new Set());
    setAllMatching(false);
  }, []);

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
      <BulkBar batchId={batchId} selected={selectedIds} all={allMatching} shownTotal={total} filter={bulkFilter} onDone={clearSelection} />
      {/* above the rows, where the eyes are while scrolling them: below the table it was off screen */}
      {deep && pausedAt !== null ? (
        <p className="notice jobs-paused" role="status">
          Live refresh paused: scrolled past the first {formatCount(LIVE_JOB_PAGES * JOBS_PAGE)} jobs, these rows are as they were loaded
          {finished > pausedAt ? ` · ${countOf(finished - pausedAt, "job", "jobs")} finished since` : ""}.{" "}
          <button type="button" className="btn btn-sm" onClick={backToTop}>
            Back to top
          </button>
        </p>
      ) : null}
      {jobs.isLoading ? (
        <Loading label="Loading jobs…" />
      ) : jobs.isError && !items.length ? (
        <QueryError error={jobs.error} onRetry={() => void jobs.refetch()} what="jobs" />
      ) : items.length === 0 ? (
        <div className="empty-state" role="status">
          <h2>{status || search ? "No jobs match" : "No jobs"}</h2>
        </div>
      ) : (
        <div className="table-wrap jobs-scroll" ref={scroller} onScroll={onScroll} data-testid="jobs-scroll">
          {/* Laid out as a grid, not as a table: every row has a fixed height and contains its own layout and paint,
              and the rendered rows sit in flow after the rows above them, which are one padding on the rows' box
              (the only style that changes as the window moves). A row of its own at its own `top` cost ~3x more
              style and layout per row coming into view (an inline style per row, measured in Chromium: creating
              12 rows and dropping 12, 17-20 ms against 5-6 ms in flow). The roles keep it a table. */}
          <table role="table" className="jobs-table" aria-label="Jobs" aria-describedby="jobs-keys" aria-rowcount={(total ?? items.length) + 1}>
            <thead role="rowgroup">
              <tr role="row" aria-rowindex={1}>
                <th role="columnheader" className="cell-check">
                  <input
                    type="checkbox"
                    aria-label={`Select all ${countOf(total ?? items.length, "job", "jobs")} ${status || search ? "the filter matches" : "of this batch"}`}
                    title="every job the filter matches, loaded or not"
                    checked={allMatching}
                    onChange={(e) => {
                      setAllMatching(e.target.checked);
                      setTicked(new Set());
                    }}
                  />
                </th>
                <th role="columnheader" className="num cell-ordinal">
                  #
                </th>
                <th role="columnheader">Record</th>
                <th role="columnheader">Status</th>
                <th role="columnheader" className="num">
                  Attempts
                </th>
                <th role="columnheader" className="num">
                  Duration
                </th>
                <th role="columnheader" className="num">
                  Cost
                </th>
                <th role="columnheader">Result</th>
                <th role="columnheader">Finished</th>
              </tr>
            </thead>
            <tbody
              role="rowgroup"
              style={{ height: items.length * win.rowHeight, paddingTop: win.before }}
              onKeyDown={(e) => {
                const row = (e.target as HTMLElement).closest<HTMLElement>("tr[data-index]");
                if (!row || e.target !== row) return;
                const i = Number(row.dataset.index);
                if (e.key === "Enter" || e.key === " ") {
                  e.preventDefault();
                  onSelect(items[i]!.record_id);
                } else if (e.key === "ArrowDown" || e.key === "j" || e.key === "ArrowUp" || e.key === "k") {
                  e.preventDefault();
                  moveTo(e.key === "ArrowDown" || e.key === "j" ? i + 1 : i - 1);
                } else if (e.key === "Home" || e.key === "End") {
                  e.preventDefault();
                  moveTo(e.key === "Home" ? 0 : items.length - 1);
                }
              }}
            >
              {items.slice(win.start, win.end).map((j, k) => (
                <JobRow
                  // keyed by record: a row staying in view is not touched while the window moves
                  key={j.record_id}
                  job={j}
                  index={win.start + k}
                  selected={selected === j.record_id}
                  ticked={allMatching || ticked.has(j.record_id)}
                  onOpen={onSelect}
                  onTick={tick}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {items.length > 0 ? (
        <>
          <p id="jobs-keys" className="visually-hidden">Arrow keys or J and K move between jobs, Home and End to the first and last loaded; Enter opens one.</p>
          <LoadMore
            hasNextPage={!!jobs.hasNextPage}
            isFetchingNextPage={jobs.isFetchingNextPage}
            fetchNextPage={() => void jobs.fetchNextPage()}
            shown={items.length}
            total={total}
            noun={["job", "jobs"]}
          />
        </>
      ) : null}
    </section>
  );
});

/** One row; memoised, so scrolling renders only the rows that come into view. */
const JobRow = memo(function JobRow({
  job: j,
  index,
  selected,
  ticked,
  onOpen,
  onTick,
}: {
  job: Job;
  index: number;
  selected: boolean;
  ticked: boolean;
  onOpen: (recordId: string) => void;
  onTick: (recordId: string, on: boolean) => void;
}) {
  return (
    <tr
      role="row"
      data-record-id={j.record_id}
      data-index={index}
      aria-rowindex={index + 2}
      className="clickable"
      tabIndex={0}
      aria-selected={selected}
      onClick={() => onOpen(j.record_id)}
    >
      <td role="cell" className="cell-check" onClick={(e) => e.stopPropagation()}>
        <input
          type="checkbox"
          aria-label={`Select job ${j.record_id}`}
          checked={ticked}
          onChange={(e) => onTick(j.record_id, e.target.checked)}
          onKeyDown={(e) => e.stopPropagation()}
        />
      </td>
      <td role="cell" className="num muted cell-ordinal">
        {j.ordinal + 1}
      </td>
      <td role="cell" className="mono cell-record" title={j.record_id}>
        {j.record_id}
      </td>
      <td role="cell">
        <JobStatusBadge job={j} />
        {j.cached_from ? (
          <span className="tag" title={`result reused from batch ${j.cached_from}: the flow did not run`}>
            cached
          </span>
        ) : null}
      </td>
      <td role="cell" className="num">
        {j.attempts}
        {j.interruptions > 0 ? (
          <span className="muted small" title="runs lost to a crash of their worker: run again without counting an attempt">
            {" "}
            · {j.interruptions} interrupted
          </span>
        ) : null}
      </td>
      <td role="cell" className="num">
        {formatMs(j.duration_ms)}
      </td>
      <td role="cell" className="num">
        {formatCost(j.cost)}
      </td>
      <ResultCell job={j} />
      <td role="cell">{formatTime(j.finished_at)}</td>
    </tr>
  );
});

/** The result's start or the error, on one line cut to the cell; the whole text in the tooltip. */
function ResultCell({ job: j }: { job: Job }) {
  if (j.error) {
    const text = `${j.error.code}: ${j.error.message}`;
    return (
      <td role="cell" className="cell-preview cell-error" title={text.slice(0, 2000)}>
        <span className="mono">{j.error.code}</span> {j.error.message}
      </td>
    );
  }
  return (
    <td role="cell" className="cell-preview mono small" title={j.result_preview ?? undefined}>
      {j.result_preview ?? <span className="muted">—</span>}
    </td>
  );
}
