// Two batches compared record by record on one result field, in PostgreSQL: each record is `same`,
// `different`, `only_a` or `only_b`; the totals, the agreement rate, a confusion matrix for label-like
// values and the distribution of the difference for numbers are aggregates over the join, and the
// records come in keyset pages by record id, so no batch's results are loaded into Node.
import type { Verdict } from "@/lib/contract/compare";
import { getPool } from "@/lib/db/client";
import {
  anyResultHas,
  compareSideRows,
  compareSummaryRow,
  comparedRecordRows,
  countComparedRecords,
  existingBatchIds,
  type CompareFilterParams,
} from "@/lib/db/sql/compare";
import { AppError } from "@/lib/errors";
import { CURSORS, decodeCursor, encodeCursor } from "@/lib/db/cursor";
import type { BatchStatus, JobStatus, Page } from "./types";

/** at most this many distinct values per side for a field to get a confusion matrix */
export const MATRIX_MAX_VALUES = 20;
const HISTOGRAM_BUCKETS = 10;

export interface CompareTarget {
  a: string;
  b: string;
  /** the result path, as segments: "result.label" -> ["label"]; [] compares whole results */
  path: string[];
}

export interface CompareSide {
  id: string;
  name: string | null;
  flow: string;
  status: BatchStatus;
  total: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  skipped: number;
  cost: number;
  durationMs: { mean: number | null; p50: number | null; p95: number | null };
  startedAt: Date | null;
  completedAt: Date | null;
}

export interface CompareSummary {
  a: CompareSide;
  b: CompareSide;
  totals: Record<Verdict, number>;
  /** same / (same + different); null when no record is in both */
  agreement: number | null;
  /** per (a value, b value) pair of records in both batches, for fields with few distinct text or boolean values */
  matrix: { a: unknown; b: unknown; count: number }[] | null;
  /** b - a over the records whose field is a number in both */
  difference: {
    count: number;
    mean: number;
    min: number;
    max: number;
    p50: number;
    p95: number;
    histogram: { from: number; to: number; count: number }[];
  } | null;
}

export interface ComparedRecord {
  recordId: string;
  verdict: Verdict;
  a: { status: JobStatus; value: unknown; result: unknown } | null;
  b: { status: JobStatus; value: unknown; result: unknown } | null;
  /** the record's data, from the dataset of A (or of B for a record only B has) */
  data: unknown;
}

export interface CompareFilter {
  verdict?: Verdict[];
  /** a cell of the matrix: the records whose A value is this JSON value (JSON text) */
  aValue?: string;
  bValue?: string;
}

const missingBatch = (id: string, which: "a" | "b") =>
  new AppError("not_found", `batch ${JSON.stringify(id)} not found`, [{ path: which, message: "no such batch" }]);

/** 404 unless both batches exist (a cheap check, before a page or an export starts). */
export async function assertComparable(target: CompareTarget): Promise<void> {
  const rows = await existingBatchIds(getPool(), [target.a, target.b]);
  for (const [id, which] of [[target.a, "a"], [target.b, "b"]] as const) {
    if (!rows.some((r) => r.id === id)) throw missingBatch(id, which);
  }
}

async function sides(target: CompareTarget): Promise<[CompareSide, CompareSide]> {
  const rows = await compareSideRows(getPool(), target.a, target.b);
  const side = (id: string, which: "a" | "b"): CompareSide => {
    const r = rows.find((x) => x.id === id);
    if (!r) throw missingBatch(id, which);
    return {
      id: r.id,
      name: r.name,
      flow: r.flow,
      status: r.status,
      total: r.total,
      succeeded: r.succeeded,
      failed: r.failed,
      cancelled: r.cancelled,
      skipped: r.skipped,
      cost: r.cost_spent,
      durationMs: { mean: r.mean_ms, p50: r.p50_ms, p95: r.p95_ms },
      startedAt: r.started_at,
      completedAt: r.completed_at,
    };
  };
  return [side(target.a, "a"), side(target.b, "b")];
}

/** A field no result of either batch has is a mistake worth naming (a typo in the path). */
async function assertFieldExists(target: CompareTarget, field: string) {
  if (target.path.length === 0) return;
  const found = await anyResultHas(getPool(), [target.a, target.b], target.path);
  if (!found) {
    throw new AppError("validation_failed", `no result of either batch has the field ${field}`, [
      { path: "field", message: `no result has ${field}` },
    ]);
  }
}


export async function compareSummary(target: CompareTarget, field: string): Promise<CompareSummary> {
  const [a, b] = await sides(target);
  await assertFieldExists(target, field);
  const r = await compareSummaryRow(getPool(), target, (MATRIX_MAX_VALUES * MATRIX_MAX_VALUES) + 1, HISTOGRAM_BUCKETS);
  const totals = { same: r.same, different: r.different, only_a: r.only_a, only_b: r.only_b };
  const inBoth = r.same + r.different;
  const matrix =
    r.labelish && r.a_distinct <= MATRIX_MAX_VALUES && r.b_distinct <= MATRIX_MAX_VALUES && inBoth > 0 ? (r.matrix ?? []) : null;
  let difference: CompareSummary["difference"] = null;
  if (r.diff_count > 0 && r.diff_min !== null && r.diff_max !== null && r.diff_mean !== null && r.diff_p) {
    const lo = r.diff_min;
    const hi = r.diff_max;
    const buckets = hi === lo ? 1 : HISTOGRAM_BUCKETS;
    const width = (hi - lo) / buckets;
    const counts = new Map((r.histogram ?? []).map((h) => [h.bucket, h.count]));
    difference = {
      count: r.diff_count,
      mean: r.diff_mean,
      min: lo,
      max: hi,
      p50: r.diff_p[0]!,
      p95: r.diff_p[1]!,
      histogram: Array.from({ length: buckets }, (_, i) => ({
        from: lo + i * width,
        to: i === buckets - 1 ? hi : lo + (i + 1) * width,
        count: counts.get(i + 1) ?? 0,
      })),
    };
  }
  return { a, b, totals, agreement: inBoth ? r.same / inBoth : null, matrix, difference };
}


/** A page of compared records in record id order (byte order, so the keyset is stable under any locale). */
export async function compareRecords(
  target: CompareTarget,
  filter: CompareFilter,
  page: { cursor?: string | null; limit: number },
): Promise<Page<ComparedRecord>> {
  await assertComparable(target);
  const after = decodeCursor(page.cursor, CURSORS.recordId);
  const rows = await comparedRecordRows(getPool(), target, filterParams(filter), after?.[0] ?? null, page.limit + 1);
  const more = rows.length > page.limit;
  const items = rows.slice(0, page.limit).map(
    (r): ComparedRecord => ({
      recordId: r.record_id,
      verdict: r.verdict,
      a: r.a_status ? { status: r.a_status, value: r.a_value ?? null, result: r.a_result ?? null } : null,
      b: r.b_status ? { status: r.b_status, value: r.b_value ?? null, result: r.b_result ?? null } : null,
      data: r.data ?? null,
    }),
  );
  const total = rows[0]?.total ?? (after ? await countRecords(target, filter) : 0);
  return { items, nextCursor: more ? encodeCursor([items[items.length - 1]!.recordId]) : null, total };
}

/** The records a filter selects (for a page past the last one, which carries no count of its own). */
async function countRecords(target: CompareTarget, filter: CompareFilter): Promise<number> {
  return countComparedRecords(getPool(), target, filterParams(filter));
}

function filterParams(filter: CompareFilter): CompareFilterParams {
  return { verdicts: filter.verdict?.length ? filter.verdict : null, aValue: filter.aValue ?? null, bValue: filter.bValue ?? null };
}

/** Every compared record, page by page (exports stream this). */
export async function* allComparedRecords(target: CompareTarget, filter: CompareFilter, pageSize = 1000): AsyncGenerator<ComparedRecord> {
  let cursor: string | null = null;
  do {
    const page: Page<ComparedRecord> = await compareRecords(target, filter, { cursor, limit: pageSize });
    yield* page.items;
    cursor = page.nextCursor;
  } while (cursor);
}
