"use client";

import Link from "next/link";
import { Loading, QueryError } from "@/components/ui/query-state";
import { formatAgo, formatBytes, formatCount, formatTime } from "@/lib/client/format";
import { useDatasets } from "@/lib/client/hooks";

export function DatasetsList() {
  const datasets = useDatasets();
  if (datasets.isLoading) return <Loading label="Loading datasets…" />;
  if (datasets.isError) return <QueryError error={datasets.error} onRetry={() => void datasets.refetch()} what="datasets" />;
  const items = datasets.data?.items ?? [];
  if (!items.length) {
    return (
      <section className="empty-state" role="status">
        <h2>No datasets yet</h2>
        <p>Upload a CSV, JSONL or JSON file above to run batches over its records.</p>
      </section>
    );
  }
  return (
    <div className="table-wrap">
      <table aria-label="Datasets">
        <thead>
          <tr>
            <th>Name</th>
            <th>Kind</th>
            <th>Format</th>
            <th className="num">Records</th>
            <th className="num">Size</th>
            <th>Created</th>
            <th aria-label="Actions" />
          </tr>
        </thead>
        <tbody>
          {items.map((d) => (
            <tr key={d.id}>
              <td>
                <Link href={`/datasets/${d.id}`}>{d.name}</Link>
                {d.description ? <div className="muted small">{d.description}</div> : null}
              </td>
              <td>{d.kind}</td>
              <td>{d.format ?? "—"}</td>
              <td className="num">{formatCount(d.record_count)}</td>
              <td className="num">{formatBytes(d.size_bytes)}</td>
              <td title={formatTime(d.created_at)}>{formatAgo(d.created_at)}</td>
              <td className="num">
                <Link href={`/batches/new?dataset=${encodeURIComponent(d.id)}`} aria-label={`Launch a batch on ${d.name}`}>
                  Launch batch
                </Link>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
