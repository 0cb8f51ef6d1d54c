"use client";
// A batch's lineage: the batch it was run again from, and the batches run again from it.
import Link from "next/link";
import { isNotFound } from "@/lib/client/api";
import { useBatch, useBatchList } from "@/lib/client/hooks";
import type { Batch } from "@/lib/client/types";

export function Lineage({ batch }: { batch: Batch }) {
  const children = useBatchList({ parent: batch.id, limit: 20 });
  const items = children.data?.pages[0]?.items ?? [];
  const more = (children.data?.pages[0]?.total ?? 0) - items.length;
  if (!batch.parent_id && !items.length) return null;
  return (
    <p className="muted lineage" aria-label="Lineage">
      {batch.parent_id ? (
        <>
          run again from <ParentLink id={batch.parent_id} />
        </>
      ) : null}
      {batch.parent_id && items.length ? " · " : null}
      {items.length ? (
        <>
          run again as{" "}
          {items.map((c, i) => (
            <span key={c.id}>
              {i ? ", " : ""}
              <Link href={`/batches/${c.id}`}>{c.name || c.id}</Link>
            </span>
          ))}
          {more > 0 ? (
            <>
              {" "}
              and <Link href={`/batches?parent=${encodeURIComponent(batch.id)}`}>{more} more</Link>
            </>
          ) : null}
        </>
      ) : null}
    </p>
  );
}

/** The parent by name while it exists; once deleted, its id and "deleted". */
function ParentLink({ id }: { id: string }) {
  const parent = useBatch(id);
  if (isNotFound(parent.error)) {
    return (
      <span>
        <span className="mono">{id}</span> <span className="tag">deleted</span>
      </span>
    );
  }
  return <Link href={`/batches/${id}`}>{id}</Link>;
}
