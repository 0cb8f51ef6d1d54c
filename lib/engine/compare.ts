// Two batches compared record by record on one result field, in PostgreSQL: each record is `same`,
// `different`, `only_a` or `only_b`; the totals, the agreement rate, a confusion matrix for label-like
// values and the distribution of the difference for numbers are aggregates over the join, and the
// records come in keyset pages by record id, so no batch's results are loaded into Node.
import type { Verdict } from "@/lib/contract/compare";
import { AppError } from "@/lib/errors";
import { query } from "./db";
import { CURSORS, decodeCursor, encodeCursor } from "@/lib/db/cursor";
import { batchExpiredSql } from "./map";
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

// The join both the summary and the pages read: one row per record id of either batch. A result
// without the field (a failed job has none) reads as JSON null. $1 batch A, $2 batch B, $3 the path.
const PAIRS = `
  pairs AS (
    SELECT record_id,
           a.status AS a_status, b.status AS b_status,
           coalesce(a.result #> $3::text[], 'null') AS a_value, coalesce(b.result #> $3::text[], 'null') AS b_value,
           a.result AS a_result, b.result AS b_result,
           a.position AS a_position, b.position AS b_position,
           CASE WHEN b.status IS NULL THEN 'only_a'
                WHEN a.status IS NULL THEN 'only_b'
                WHEN coalesce(a.result #> $3::text[], 'null') = coalesce(b.result #> $3::text[], 'null') THEN 'same'
                ELSE 'different' END AS verdict
      FROM (SELECT record_id, status, result, position FROM jobs WHERE batch_id = $1) a
      FULL JOIN (SELECT record_id, status, result, position FROM jobs WHERE batch_id = $2) b USING (record_id)
  )`;

interface SideRow {
  id: string;
  name: string | null;
  flow: string;
  status: BatchStatus;
  total: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  skipped: number;
  cost_spent: number;
  started_at: Date | null;
  completed_at: Date | null;
  mean_ms: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
}

const missingBatch = (id: string, which: "a" | "b") =>
  new AppError("not_found", `batch ${JSON.stringify(id)} not found`, [{ path: which, message: "no such batch" }]);

/** 404 unless both batches exist (a cheap check, before a page or an export starts). */
export async function assertComparable(target: CompareTarget): Promise<void> {
  const { rows } = await query<{ id: string }>(`SELECT id FROM batches b WHERE id = ANY($1::text[]) AND NOT ${batchExpiredSql()}`, [[target.a, target.b]]);
  for (const [id, which] of [[target.a, "a"], [target.b, "b"]] as const) {
    if (!rows.some((r) => r.id === id)) throw missingBatch(id, which);
  }
}

async function sides(target: CompareTarget): Promise<[CompareSide, CompareSide]> {
  const { rows } = await query<SideRow>(
    `SELECT b.id, b.name, b.flow, b.status, b.total, b.succeeded, b.failed, b.cancelled, b.skipped, b.cost_spent,
            b.started_at, b.completed_at, d.mean_ms, d.p50_ms, d.p95_ms
       FROM batches b
       LEFT JOIN LATERAL (
         SELECT avg(duration_ms)::float8 AS mean_ms,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms)::float8 AS p50_ms,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)::float8 AS p95_ms
           FROM jobs WHERE batch_id = b.id AND duration_ms IS NOT NULL
       ) d ON true
      WHERE b.id = ANY($1::text[]) AND NOT ${batchExpiredSql()}`,
    [[target.a, target.b]],
  );
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
  const { rows } = await query<{ found: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM jobs WHERE batch_id = ANY($1::text[]) AND result #> $2::text[] IS NOT NULL) AS found`,
    [[target.a, target.b], target.path],
  );
  if (!rows[0]!.found) {
    throw new AppError("validation_failed", `no result of either batch has the field ${field}`, [
      { path: "field", message: `no result has ${field}` },
    ]);
  }
}

interface SummaryRow {
  same: number;
  different: number;
  only_a: number;
  only_b: number;
  a_distinct: number;
  b_distinct: number;
  labelish: boolean | null;
  diff_count: number;
  diff_mean: number | null;
  diff_min: number | null;
  diff_max: number | null;
  diff_p: number[] | null;
  matrix: { a: unknown; b: unknown; count: number }[] | null;
  histogram: { bucket: number; count: number }[] | null;
}

export async function compareSummary(target: CompareTarget, field: string): Promise<CompareSummary> {
  const [a, b] = await sides(target);
  await assertFieldExists(target, field);
  const { rows } = await query<SummaryRow>(
    `WITH ${PAIRS},
     both_sides AS (SELECT a_value, b_value FROM pairs WHERE verdict IN ('same', 'different')),
     diffs AS (
       SELECT (b_value::numeric - a_value::numeric)::float8 AS d FROM both_sides
        WHERE jsonb_typeof(a_value) = 'number' AND jsonb_typeof(b_value) = 'number'
     ),
     diff_stats AS (
       SELECT count(*)::int AS n, avg(d) AS mean, min(d) AS lo, max(d) AS hi,
              percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY d) AS p
         FROM diffs
     )
     SELECT
       (SELECT count(*) FROM pairs WHERE verdict = 'same')::int AS same,
       (SELECT count(*) FROM pairs WHERE verdict = 'different')::int AS different,
       (SELECT count(*) FROM pairs WHERE verdict = 'only_a')::int AS only_a,
       (SELECT count(*) FROM pairs WHERE verdict = 'only_b')::int AS only_b,
       (SELECT count(DISTINCT a_value) FROM both_sides)::int AS a_distinct,
       (SELECT count(DISTINCT b_value) FROM both_sides)::int AS b_distinct,
       (SELECT bool_and(coalesce(jsonb_typeof(a_value), 'null') IN ('string', 'boolean', 'null')
                    AND coalesce(jsonb_typeof(b_value), 'null') IN ('string', 'boolean', 'null')) FROM both_sides) AS labelish,
       s.n AS diff_count, s.mean AS diff_mean, s.lo AS diff_min, s.hi AS diff_max, s.p AS diff_p,
       (SELECT json_agg(json_build_object('a', a_value, 'b', b_value, 'count', n) ORDER BY n DESC, a_value::text, b_value::text)
          FROM (SELECT a_value, b_value, count(*)::int AS n FROM both_sides GROUP BY 1, 2 LIMIT $4) m) AS matrix,
       (SELECT json_agg(json_build_object('bucket', k, 'count', n) ORDER BY k)
          FROM (SELECT CASE WHEN s.hi = s.lo THEN 1 ELSE least(width_bucket(d, s.lo, s.hi, $5), $5) END AS k, count(*)::int AS n
                  FROM diffs GROUP BY 1) h) AS histogram
     FROM diff_stats s`,
    [target.a, target.b, target.path, (MATRIX_MAX_VALUES * MATRIX_MAX_VALUES) + 1, HISTOGRAM_BUCKETS],
  );
  const r = rows[0]!;
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

interface RecordRow {
  record_id: string;
  verdict: Verdict;
  a_status: JobStatus | null;
  b_status: JobStatus | null;
  a_value: unknown;
  b_value: unknown;
  a_result: unknown;
  b_result: unknown;
  total: number;
  data: unknown;
}

/** A page of compared records in record id order (byte order, so the keyset is stable under any locale). */
export async function compareRecords(
  target: CompareTarget,
  filter: CompareFilter,
  page: { cursor?: string | null; limit: number },
): Promise<Page<ComparedRecord>> {
  await assertComparable(target);
  const after = decodeCursor(page.cursor, CURSORS.recordId);
  const { rows } = await query<RecordRow>(
    `WITH ${PAIRS}
     SELECT p.record_id, p.verdict, p.a_status, p.b_status, p.a_value, p.b_value, p.a_result, p.b_result, p.total, r.data
       FROM (
         SELECT pairs.*, count(*) OVER ()::int AS total FROM pairs
          WHERE ($5::text[] IS NULL OR verdict = ANY($5::text[]))
            AND ($6::jsonb IS NULL OR a_value IS NOT DISTINCT FROM $6::jsonb)
            AND ($7::jsonb IS NULL OR b_value IS NOT DISTINCT FROM $7::jsonb)
       ) p
       LEFT JOIN LATERAL (
         SELECT dr.data FROM batches bt JOIN dataset_records dr ON dr.dataset_id = bt.dataset_id
          WHERE (bt.id = $1 AND dr.position = p.a_position) OR (p.a_position IS NULL AND bt.id = $2 AND dr.position = p.b_position)
          LIMIT 1
       ) r ON true
      WHERE ($4::text IS NULL OR p.record_id COLLATE "C" > $4::text COLLATE "C")
      ORDER BY p.record_id COLLATE "C"
      LIMIT $8`,
    [
      target.a,
      target.b,
      target.path,
      after?.[0] ?? null,
      filter.verdict?.length ? filter.verdict : null,
      filter.aValue ?? null,
      filter.bValue ?? null,
      page.limit + 1,
    ],
  );
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
  const { rows } = await query<{ n: number }>(
    `WITH ${PAIRS}
     SELECT count(*)::int AS n FROM pairs
      WHERE ($4::text[] IS NULL OR verdict = ANY($4::text[]))
        AND ($5::jsonb IS NULL OR a_value IS NOT DISTINCT FROM $5::jsonb)
        AND ($6::jsonb IS NULL OR b_value IS NOT DISTINCT FROM $6::jsonb)`,
    [target.a, target.b, target.path, filter.verdict?.length ? filter.verdict : null, filter.aValue ?? null, filter.bValue ?? null],
  );
  return rows[0]!.n;
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
