"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { ProgressBar } from "@/components/ui/progress-bar";
import { LoadMore, Loading, QueryError } from "@/components/ui/query-state";
import { BatchStatusBadge } from "@/components/ui/status-badge";
import { formatAgo, formatCost, formatDuration, formatRate, formatTime } from "@/lib/client/format";
import { useBatchList, useFlows } from "@/lib/client/hooks";
import { BATCH_STATUSES, isActiveBatch } from "@/lib/client/types";
import { useDebounced } from "@/lib/client/use-debounced";

export function BatchesTable() {
  const router = useRouter();
  const [status, setStatus] = useState("");
  const [flow, setFlow] = useState("");
  const [q, setQ] = useState("");
  const search = useDebounced(q.trim());
  const flows = useFlows();
  const list = useBatchList({ status, flow, q: search, limit: 50 });
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  const total = list.data?.pages[0]?.total;
  const filtered = !!(status || flow || search);

  return (
    <>
      <div className="toolbar" role="search" aria-label="Filter batches">
        <label className="inline-field">
          <span>Status</span>
          <select value={status} onChange={(e) => setStatus(e.target.value)} aria-label="Status">
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
          <select value={flow} onChange={(e) => setFlow(e.target.value)} aria-label="Flow">
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
                <th>Progress</th>
                <th className="num">Cost</th>
                <th className="num">Rate</th>
                <th className="num">ETA</th>
                <th>Created</th>
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
            noun="batches"
          />
        </div>
      )}
    </>
  );
}
