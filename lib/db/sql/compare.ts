// Two batches compared record by record on one result field (lib/engine/compare.ts), in PostgreSQL:
// a FULL JOIN of their jobs by record id, jsonb paths (#>), percentile_cont, json_agg and width_bucket
// for the summary, and keyset pages over record_id COLLATE "C" with a window count(*) OVER (). Prisma
// Client can say none of these, and no batch's results are loaded into Node.
import type { JobStatus } from "@/lib/contract/statuses";
import type { Verdict } from "@/lib/contract/compare";
import { batchExpiredSql } from "./batches";
import type { Batch as BatchModel } from "@/lib/generated/prisma/client";
import type { RowOf } from "../rows";
import type { Queryable } from "./queryable";

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

/** One batch's side of a comparison: its row's figures and its attempts' durations. */
export type SideRow = Pick<
  RowOf<BatchModel>,
  "id" | "name" | "flow" | "status" | "total" | "succeeded" | "failed" | "cancelled" | "skipped" | "cost_spent" | "started_at" | "completed_at"
> & {
  mean_ms: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
};

export interface SummaryRow {
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

export interface RecordRow {
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

/** A comparison: batch A, batch B, and the result path as segments ([] compares whole results). */
export interface ComparePair {
  a: string;
  b: string;
  path: string[];
}

export interface CompareFilterParams {
  verdicts: string[] | null;
  aValue: unknown;
  bValue: unknown;
}

/** Which of `ids` are batches not expired. */
export async function existingBatchIds(db: Queryable, ids: string[]): Promise<{ id: string }[]> {
  const { rows } = await db.query<{ id: string }>(`SELECT id FROM batches b WHERE id = ANY($1::text[]) AND NOT ${batchExpiredSql()}`, [ids]);
  return rows;
}

/** Both batches' counters, cost and duration percentiles (those not expired). */
export async function compareSideRows(db: Queryable, a: string, b: string): Promise<SideRow[]> {
  const { rows } = await db.query<SideRow>(
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
    [[a, b]],
  );
  return rows;
}

/** Whether any result of the batches has a value at `path`. */
export async function anyResultHas(db: Queryable, batchIds: string[], path: string[]): Promise<boolean> {
  const { rows } = await db.query<{ found: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM jobs WHERE batch_id = ANY($1::text[]) AND result #> $2::text[] IS NOT NULL) AS found`,
    [batchIds, path],
  );
  return rows[0]!.found;
}

/** The totals, agreement, confusion matrix (up to `matrixLimit` pairs) and difference histogram (`buckets`) of a comparison. */
export async function compareSummaryRow(db: Queryable, t: ComparePair, matrixLimit: number, buckets: number): Promise<SummaryRow> {
  const { rows } = await db.query<SummaryRow>(
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
    [t.a, t.b, t.path, matrixLimit, buckets],
  );
  return rows[0]!;
}

/** Up to `limit` compared records after record id `after` (byte order), with the filter's total on each row. */
export async function comparedRecordRows(db: Queryable, t: ComparePair, f: CompareFilterParams, after: string | null, limit: number): Promise<RecordRow[]> {
  const { rows } = await db.query<RecordRow>(
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
    [t.a, t.b, t.path, after, f.verdicts, f.aValue, f.bValue, limit],
  );
  return rows;
}

/** How many records the filter selects. */
export async function countComparedRecords(db: Queryable, t: ComparePair, f: CompareFilterParams): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `WITH ${PAIRS}
     SELECT count(*)::int AS n FROM pairs
      WHERE ($4::text[] IS NULL OR verdict = ANY($4::text[]))
        AND ($5::jsonb IS NULL OR a_value IS NOT DISTINCT FROM $5::jsonb)
        AND ($6::jsonb IS NULL OR b_value IS NOT DISTINCT FROM $6::jsonb)`,
    [t.a, t.b, t.path, f.verdicts, f.aValue, f.bValue],
  );
  return rows[0]!.n;
}
