// The batches list: filtered, sorted by one key (ties broken by id, in the same direction) and
// keyset-paginated on (key, id), so a page never repeats or skips a batch whose key did not change.
import type { BatchSort, SortOrder } from "@/lib/contract/batch-sort";
import { CURSORS, decodeCursor, encodeCursor } from "@/lib/db/cursor";
import { AppError } from "@/lib/errors";
import { escapeLike } from "./batches";
import { query } from "./db";
import { BATCH_RATE_SQL, BATCH_SELECT, batchExpiredSql, toBatch, type BatchRow } from "./map";
import type { Batch, BatchStatus, Page } from "./types";

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

/**
 * The numeric sort keys as SQL over `b`, never null (a batch without a rate sorts as -1, below 0),
 * so a (key, id) row comparison orders every batch. progress is the API's progress.percent / 100.
 */
const NUMERIC_KEYS: Record<Exclude<BatchSort, "created">, string> = {
  progress: `(CASE WHEN b.total > 0 THEN (b.succeeded + b.failed + b.cancelled + b.skipped)::float8 / b.total
              WHEN b.status IN ('completed', 'failed', 'cancelled') THEN 1 ELSE 0 END)`,
  cost: `b.cost_spent::float8`,
  rate: `COALESCE(${BATCH_RATE_SQL}, -1)`,
};

export async function listBatches(opts: ListBatchesOptions): Promise<Page<Batch>> {
  const sort = opts.sort ?? "created";
  const dir = opts.order === "asc" ? "ASC" : "DESC";
  const where: string[] = [`NOT ${batchExpiredSql()}`];
  const params: unknown[] = [];
  const add = (sql: (n: string) => string, v: unknown) => {
    params.push(v);
    where.push(sql(`$${params.length}`));
  };
  if (opts.status?.length) add((p) => `b.status = ANY(${p}::batch_status[])`, opts.status);
  if (opts.flow) add((p) => `b.flow = ${p}`, opts.flow);
  if (opts.parent) add((p) => `b.parent_id = ${p}`, opts.parent);
  if (opts.q) add((p) => `(b.id ILIKE ${p} OR b.name ILIKE ${p} OR b.metadata::text ILIKE ${p})`, `%${escapeLike(opts.q)}%`);
  const filterSql = `WHERE ${where.join(" AND ")}`;
  const filterParams = [...params];

  const key = sort === "created" ? "b.created_at" : NUMERIC_KEYS[sort];
  const after = dir === "DESC" ? "<" : ">";
  if (sort === "created") {
    const cursor = decodeCursor(opts.cursor, CURSORS.createdAt);
    if (cursor) {
      params.push(new Date(cursor[0]), cursor[1]);
      where.push(`(b.created_at, b.id) ${after} ($${params.length - 1}, $${params.length})`);
    }
  } else {
    const cursor = decodeCursor(opts.cursor, CURSORS.batchSort);
    if (cursor && cursor[0] !== sort) {
      throw new AppError("validation_failed", "invalid cursor", [{ path: "cursor", message: `a cursor of the ${cursor[0]} order, not ${sort}` }]);
    }
    if (cursor) {
      params.push(cursor[1], cursor[2]);
      where.push(`(${key}, b.id) ${after} ($${params.length - 1}::float8, $${params.length})`);
    }
  }
  const limit = Math.max(1, Math.min(opts.limit, 500));
  params.push(limit + 1);
  const [page, count] = await Promise.all([
    query<BatchRow & { sort_key: number }>(
      `SELECT ${BATCH_SELECT}, ${sort === "created" ? "0" : key} AS sort_key FROM batches b WHERE ${where.join(" AND ")}
       ORDER BY ${key} ${dir}, b.id ${dir} LIMIT $${params.length}`,
      params,
    ),
    query<{ n: number }>(`SELECT count(*)::int AS n FROM batches b ${filterSql}`, filterParams),
  ]);
  const rows = page.rows.slice(0, limit);
  const last = rows[rows.length - 1];
  let nextCursor: string | null = null;
  if (page.rows.length > limit && last) {
    nextCursor = encodeCursor(sort === "created" ? [last.created_at.toISOString(), last.id] : [sort, last.sort_key, last.id]);
  }
  return { items: rows.map((r) => toBatch(r)), nextCursor, total: count.rows[0]?.n ?? 0 };
}
