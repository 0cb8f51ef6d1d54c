"use client";
// The batches list. Its filters and sort live in the URL (?status=&flow=&q=&parent=&sort=&order=), so
// Back and a shared link keep them.
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { ProgressBar } from "@/components/ui/progress-bar";
import { SortHeader } from "@/components/ui/sort-header";
import { LoadMore, Loading, QueryError } from "@/components/ui/query-state";
import { BatchStatusBadge } from "@/components/ui/status-badge";
import { formatAgo, formatCost, formatDuration, formatRate, formatTime } from "@/lib/client/format";
import { useBatchList, useFlows } from "@/lib/client/hooks";
import { BATCH_STATUSES, isActiveBatch } from "@/lib/client/types";
import { BATCH_SORTS, type BatchSort, type SortOrder } from "@/lib/contract/batch-sort";
import { useDebounced } from "@/lib/client/use-debounced";
import { useUrlParams } from "@/lib/client/use-url-params";

export function BatchesTable() {
  const router = useRouter();
  const [params, setFilter] = useUrlParams();
  const status = params.get("status") ?? "";
  const flow = params.get("flow") ?? "";
  const parent = params.get("parent") ?? "";
  const [q, setQ] = useState(params.get("q") ?? "");
  const search = useDebounced(q.trim());
  const sort = (BATCH_SORTS as readonly string[]).includes(params.get("sort") ?? "") ? (params.get("sort") as BatchSort) : "created";
  const order: SortOrder = params.get("order") === "asc" ? "asc" : "desc";
  const onSort = (key: BatchSort, o: SortOrder) => setFilter({ sort: key === "created" ? null : key, order: o === "desc" ? null : o });
  const flows = useFlows();
  const list = useBatchList({ status, flow, q: search, parent: parent || undefined, sort, order, limit: 50 });
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  const total = list.data?.pages[0]?.total;
  const filtered = !!(status || flow || search || parent);

  // the search box writes the URL once typing pauses
  useEffect(() => {
    if (search !== (params.get("q") ?? "")) setFilter({ q: search });
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only a new search writes the URL
  }, [search]);

  const sorting = { sort, order, onSort };
  return (
    <>
      <div className="toolbar" role="search" aria-label="Filter batches">
        <label className="inline-field">
          <span>Status</span>
          <select value={status} onChange={(e) => setFilter({ status: e.target.value })} aria-label="Status">
            <option value="">All</option>
            {BATCH_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label className="inline-field">
          <span>Flow</span>
          <select value={flow} onChange={(e) => setFilter({ flow: e.target.value })} aria-label="Flow">
            <option value="">All</option>
            {flows.data?.items.map((f) => (
              <option key={f.name} value={f.name}>
                {f.name}
              </option>
            ))}
          </select>
        </label>
        <input
          type="search"
          className="search"
          placeholder="Search by name or id…"
          aria-label="Search batches"
          value={q}
          onChange={(e) => setQ(e.target.value)}
        />
        {parent ? (
          <span className="tag">
            run again from <Link href={`/batches/${parent}`}>{parent}</Link>{" "}
            <button type="button" className="btn btn-sm btn-ghost" aria-label="Show all batches" onClick={() => setFilter({ parent: "" })}>
              ✕
            </button>
          </span>
        ) : null}
        {list.isFetching && !list.isLoading ? <span className="muted small">updating…</span> : null}
      </div>

      {list.isLoading ? (
        <Loading label="Loading batches…" />
      ) : list.isError && !items.length ? (
        <QueryError error={list.error} onRetry={() => void list.refetch()} what="batches" />
      ) : items.length === 0 ? (
        <section className="empty-state" role="status">
          <h2>{filtered ? "No batches match these filters" : "No batches yet"}</h2>
          <p>
            {filtered ? (
              "Clear a filter to see more."
            ) : (
              <>
                Launch a batch to run a flow over every record of a dataset. <Link href="/batches/new">Launch a batch</Link>
              </>
            )}
          </p>
        </section>
      ) : (
        <div className="table-wrap">
          <table aria-label="Batches">
            <thead>
              <tr>
                <th>Name</th>
                <th>Flow</th>
                <th>Status</th>
                <SortHeader label="Progress" sortKey="progress" {...sorting} />
                <SortHeader label="Cost" sortKey="cost" className="num" {...sorting} />
                <SortHeader label="Rate" sortKey="rate" className="num" {...sorting} />
                <th className="num">ETA</th>
                <SortHeader label="Created" sortKey="created" {...sorting} />
              </tr>
            </thead>
            <tbody>
              {items.map((b) => (
                <tr key={b.id} className="clickable" onClick={() => router.push(`/batches/${b.id}`)}>
                  <td className="cell-name">
                    <Link href={`/batches/${b.id}`} onClick={(e) => e.stopPropagation()}>
                      {b.name || b.id}
                    </Link>
                    {b.name ? <div className="muted mono small">{b.id}</div> : null}
                  </td>
                  <td>{b.flow}</td>
                  <td>
                    <BatchStatusBadge batch={b} />
                    {b.options?.dry_run ? <span className="tag">dry run</span> : null}
                  </td>
                  <td className="cell-progress">
                    <ProgressBar batch={b} />
                  </td>
                  <td className="num">
                    {formatCost(b.cost.spent)}
                    {b.cost.max !== null ? <span className="muted"> / {formatCost(b.cost.max)}</span> : null}
                  </td>
                  <td className="num">{formatRate(b.timing.items_per_second)}</td>
                  <td className="num">{isActiveBatch(b.status) ? formatDuration(b.timing.eta_seconds) : "—"}</td>
                  <td title={formatTime(b.timing.created_at)}>{formatAgo(b.timing.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <LoadMore
            hasNextPage={!!list.hasNextPage}
            isFetchingNextPage={list.isFetchingNextPage}
            fetchNextPage={() => void list.fetchNextPage()}
            shown={items.length}
            total={total}
            noun={["batch", "batches"]}
          />
        </div>
      )}
    </>
  );
}
