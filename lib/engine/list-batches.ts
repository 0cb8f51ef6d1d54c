// The batches list: filtered, sorted by one key (ties broken by id, in the same direction) and
// keyset-paginated on (key, id), so a page never repeats or skips a batch whose key did not change.
import type { BatchSort, SortOrder } from "@/lib/contract/batch-sort";
import { CURSORS, decodeCursor, encodeCursor } from "@/lib/db/cursor";
import { AppError } from "@/lib/errors";
import { escapeLike } from "./batches";
import { getPool } from "@/lib/db/client";
import { listBatchRows } from "@/lib/db/sql/batches";
import { toBatch, type BatchRead } from "./map";
import type { BatchStatus, Page } from "./types";

export interface ListBatchesOptions {
  status?: BatchStatus[];
  flow?: string;
  q?: string;
  /** only the batches run again from this one */
  parent?: string;
  sort?: BatchSort;
  order?: SortOrder;
  cursor?: string | null;
  limit: number;
}

export async function listBatches(opts: ListBatchesOptions): Promise<Page<BatchRead>> {
  const sort = opts.sort ?? "created";
  let after: { key: Date | number; id: string } | undefined;
  if (sort === "created") {
    const cursor = decodeCursor(opts.cursor, CURSORS.createdAt);
    if (cursor) after = { key: new Date(cursor[0]), id: cursor[1] };
  } else {
    const cursor = decodeCursor(opts.cursor, CURSORS.batchSort);
    if (cursor && cursor[0] !== sort) {
      throw new AppError("validation_failed", "invalid cursor", [{ path: "cursor", message: `a cursor of the ${cursor[0]} order, not ${sort}` }]);
    }
    if (cursor) after = { key: cursor[1], id: cursor[2] };
  }
  const limit = Math.max(1, Math.min(opts.limit, 500));
  const page = await listBatchRows(getPool(), {
    status: opts.status,
    flow: opts.flow,
    parent: opts.parent,
    pattern: opts.q ? `%${escapeLike(opts.q)}%` : undefined,
    sort,
    descending: opts.order !== "asc",
    after,
    limit: limit + 1,
  });
  const rows = page.rows.slice(0, limit);
  const last = rows[rows.length - 1];
  let nextCursor: string | null = null;
  if (page.rows.length > limit && last) {
    nextCursor = encodeCursor(sort === "created" ? [last.created_at.toISOString(), last.id] : [sort, last.sort_key, last.id]);
  }
  return { items: rows.map((r) => toBatch(r)), nextCursor, total: page.total };
}
