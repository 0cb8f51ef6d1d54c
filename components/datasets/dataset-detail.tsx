"use client";

import Link from "next/link";
import { LoadMore, Loading, QueryError } from "@/components/ui/query-state";
import { isNotFound } from "@/lib/client/api";
import { formatBytes, formatCount, formatTime } from "@/lib/client/format";
import { useDataset, useDatasetRecords } from "@/lib/client/hooks";
import { DeleteDatasetButton } from "./delete-dataset";
import { RecordsTable } from "./records-table";

export function DatasetDetail({ id }: { id: string }) {
  const dataset = useDataset(id);
  const records = useDatasetRecords(id);
  if (dataset.isLoading) return <Loading label="Loading dataset…" />;
  if (isNotFound(dataset.error)) {
    return (
      <section className="empty-state" role="status">
        <h1>Dataset not found</h1>
        <p>
          No dataset has the id <code>{id}</code>. <Link href="/datasets">Back to datasets</Link>
        </p>
      </section>
    );
  }
  if (!dataset.data) return <QueryError error={dataset.error} onRetry={() => void dataset.refetch()} what="this dataset" />;
  const d = dataset.data;
  const items = records.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link href="/datasets">Datasets</Link> <span aria-hidden>/</span> <span>{d.name}</span>
      </nav>
      <div className="page-header">
        <div>
          <h1>{d.name}</h1>
          <p className="muted">
            {formatCount(d.record_count)} records · {d.format ?? d.kind} · {formatBytes(d.size_bytes)} · id field{" "}
            <code>{d.id_field ?? "id"}</code> · created {formatTime(d.created_at)}
          </p>
          {d.description ? <p>{d.description}</p> : null}
        </div>
        <div className="page-actions">
          <Link className="btn btn-primary" href={`/batches/new?dataset=${encodeURIComponent(d.id)}`}>
            Launch batch on this dataset
          </Link>
          <DeleteDatasetButton dataset={d} />
        </div>
      </div>
      <h2>Records</h2>
      {records.isLoading ? (
        <Loading label="Loading records…" />
      ) : records.isError ? (
        <QueryError error={records.error} onRetry={() => void records.refetch()} what="records" />
      ) : items.length === 0 ? (
        <div className="empty-state" role="status">
          <h2>This dataset has no records</h2>
        </div>
      ) : (
        <div className="table-wrap">
          <RecordsTable records={items} />
          <LoadMore
            hasNextPage={!!records.hasNextPage}
            isFetchingNextPage={records.isFetchingNextPage}
            fetchNextPage={() => void records.fetchNextPage()}
            shown={items.length}
            total={records.data?.pages[0]?.total ?? d.record_count}
            noun={["record", "records"]}
          />
        </div>
      )}
    </>
  );
}
