// A batch's summary (lib/engine/summary.ts), computed by PostgreSQL over the stored jobs: FILTER counts,
// percentile_cont, jsonb paths (#>, a field path only ever as a text[] parameter), jsonb_each and
// width_bucket. Prisma Client can say none of these, and no result leaves the database.
import type { Queryable } from "./queryable";

export interface TotalsRow {
  total: number;
  pending: number;
  running: number;
  waiting_input: number;
  waiting_provider: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  skipped: number;
  retries_used: string;
  cost_total: number;
  ran: number;
  d_count: number;
  d_mean: number | null;
  d_min: number | null;
  d_max: number | null;
  d_p50: number | null;
  d_p95: number | null;
}

// Durations come from the run that finished (started_at is set again on each attempt); a record
// "ran" when the flow took it to succeeded or failed, and the mean cost is per such record.
// One sort serves both percentiles (the array form of percentile_cont); two calls sort twice.
const TOTALS_SQL = `
  SELECT total, pending, running, waiting_input, waiting_provider, succeeded, failed, cancelled, skipped,
         retries_used, cost_total, ran, d_count, d_mean, d_min, d_max, d_p[1] AS d_p50, d_p[2] AS d_p95
  FROM (
    SELECT count(*)::int AS total,
           count(*) FILTER (WHERE status = 'pending')::int AS pending,
           count(*) FILTER (WHERE status = 'running')::int AS running,
           count(*) FILTER (WHERE status = 'waiting_input')::int AS waiting_input,
           count(*) FILTER (WHERE status = 'waiting_provider')::int AS waiting_provider,
           count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
           count(*) FILTER (WHERE status = 'failed')::int AS failed,
           count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled,
           count(*) FILTER (WHERE status = 'skipped')::int AS skipped,
           COALESCE(sum(GREATEST(attempts - 1, 0)), 0)::bigint AS retries_used,
           COALESCE(sum(cost), 0)::float8 AS cost_total,
           count(*) FILTER (WHERE status IN ('succeeded', 'failed'))::int AS ran,
           count(d.ms)::int AS d_count,
           avg(d.ms)::float8 AS d_mean,
           min(d.ms)::float8 AS d_min,
           max(d.ms)::float8 AS d_max,
           percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY d.ms) AS d_p
    FROM jobs j
    CROSS JOIN LATERAL (
      SELECT CASE WHEN j.status IN ('succeeded', 'failed') AND j.started_at IS NOT NULL AND j.finished_at IS NOT NULL
                  THEN extract(epoch FROM j.finished_at - j.started_at)::float8 * 1000 END AS ms
    ) d
    WHERE j.batch_id = $1
  ) totals`;

const ERRORS_SQL = `
  SELECT error_code AS code, count(*)::int AS count
  FROM jobs WHERE batch_id = $1 AND status = 'failed' AND error_code IS NOT NULL
  GROUP BY error_code ORDER BY count(*) DESC, error_code LIMIT $2`;

// The values at one path, over every stored result, grouped in one pass (a result without the field, or
// with null there, falls in the NULL group); the window sums run over every group before the LIMIT
// keeps the top ones, so `results`, `present` and `distinct` count them all.
const DISTRIBUTION_SQL = `
  SELECT results, value, count, present, "distinct"
  FROM (
    SELECT grouped.value, grouped.count,
           sum(grouped.count) OVER ()::int AS results,
           (sum(grouped.count) FILTER (WHERE grouped.value IS NOT NULL) OVER ())::int AS present,
           (count(*) FILTER (WHERE grouped.value IS NOT NULL) OVER ())::int AS "distinct"
    FROM (
      SELECT NULLIF(result #> $2::text[], 'null'::jsonb) AS value, count(*)::int AS count
      FROM jobs WHERE batch_id = $1 AND result IS NOT NULL
      GROUP BY 1
    ) grouped
  ) counted
  WHERE value IS NOT NULL
  ORDER BY count DESC, value LIMIT $3`;

// The value at the path is taken once per result (OFFSET 0 keeps the planner from copying the path
// expression into each use, which tripled the work: 6.2 s against 2.4 s on 1,000,000 results), cast
// from jsonb to float8 directly, and one sort serves both percentiles.
const NUMERIC_SQL = `
  SELECT results, count, non_numeric, mean, min, max, p[1] AS p50, p[2] AS p95, integers
  FROM (
    SELECT count(*)::int AS results,
           count(number.n)::int AS count,
           count(*) FILTER (WHERE typed.type NOT IN ('number', 'null'))::int AS non_numeric,
           avg(number.n) AS mean, min(number.n) AS min, max(number.n) AS max,
           percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY number.n) AS p,
           COALESCE(bool_and(number.n = trunc(number.n)), false) AS integers
    FROM jobs j
    CROSS JOIN LATERAL (SELECT j.result #> $2::text[] AS value OFFSET 0) field
    CROSS JOIN LATERAL (SELECT jsonb_typeof(field.value) AS type) typed
    CROSS JOIN LATERAL (SELECT CASE WHEN typed.type = 'number' THEN field.value::float8 END AS n) number
    WHERE j.batch_id = $1 AND j.result IS NOT NULL
  ) stats`;

const NON_NUMERIC_SAMPLE_SQL = `
  SELECT record_id, result #> $2::text[] AS value FROM jobs
  WHERE batch_id = $1 AND result IS NOT NULL AND jsonb_typeof(result #> $2::text[]) NOT IN ('number', 'null')
  ORDER BY position LIMIT 1`;

// width_bucket puts the maximum in an extra bucket past the last; LEAST folds it into the last one. The
// value at the path is taken once per result, as in NUMERIC_SQL.
const HISTOGRAM_SQL = `
  SELECT LEAST(width_bucket(field.value::float8, $3::float8, $4::float8, $5::int), $5::int) AS bin, count(*)::int AS count
  FROM jobs j
  CROSS JOIN LATERAL (SELECT j.result #> $2::text[] AS value OFFSET 0) field
  WHERE j.batch_id = $1 AND j.result IS NOT NULL AND jsonb_typeof(field.value) = 'number'
  GROUP BY 1 ORDER BY 1`;

// keys the field syntax can name (no dots, commas, spaces or brackets)
const FIELDS_SQL = `
  SELECT 'result.' || e.key AS field, array_agg(DISTINCT jsonb_typeof(e.value) ORDER BY jsonb_typeof(e.value)) AS types, count(*)::int AS count
  FROM (SELECT result FROM jobs WHERE batch_id = $1 AND result IS NOT NULL ORDER BY position LIMIT $2) s
  CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(s.result) = 'object' THEN s.result ELSE '{}'::jsonb END) e
  WHERE e.key ~ '^[^.,[:space:][\\]]{1,200}$'
  GROUP BY e.key ORDER BY e.key LIMIT 100`;

/**
 * Keeps the summary's reads on one core (for the rest of the transaction): its costly steps are sorts
 * and per-result jsonb work that parallel workers do not share (on 1,000,000 results the whole summary
 * took as long with two workers as with none), while the workers took the other cores from the
 * requests a viewer waits for (the batch page, its jobs pages) on the same machine.
 */
export async function summaryOnOneCore(db: Queryable): Promise<void> {
  await db.query("SET LOCAL max_parallel_workers_per_gather = 0");
}

export async function summaryTotals(db: Queryable, batchId: string): Promise<TotalsRow> {
  const { rows } = await db.query<TotalsRow>(TOTALS_SQL, [batchId]);
  return rows[0]!;
}

/** The `limit` most frequent error codes of the batch's failed jobs. */
export async function summaryErrors(db: Queryable, batchId: string, limit: number): Promise<{ code: string; count: number }[]> {
  const { rows } = await db.query<{ code: string; count: number }>(ERRORS_SQL, [batchId, limit]);
  return rows;
}

/** Top-level result fields seen in the first `sample` results, with the JSON types of their values. */
export async function summaryFields(db: Queryable, batchId: string, sample: number): Promise<{ field: string; types: string[]; count: number }[]> {
  const { rows } = await db.query<{ field: string; types: string[]; count: number }>(FIELDS_SQL, [batchId, sample]);
  return rows;
}

export interface DistributionRow {
  results: number;
  value: unknown;
  count: number;
  present: number;
  distinct: number;
}

/** The `top` most frequent values at `keys` over the batch's results, with the totals over all values. */
export async function fieldDistribution(db: Queryable, batchId: string, keys: string[], top: number): Promise<DistributionRow[]> {
  const { rows } = await db.query<DistributionRow>(DISTRIBUTION_SQL, [batchId, keys, top]);
  return rows;
}

/** How many of the batch's jobs have a result. */
export async function countResults(db: Queryable, batchId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE batch_id = $1 AND result IS NOT NULL", [batchId]);
  return rows[0]?.n ?? 0;
}

export interface NumericRow {
  results: number;
  count: number;
  non_numeric: number;
  mean: number | null;
  min: number | null;
  max: number | null;
  p50: number | null;
  p95: number | null;
  integers: boolean;
}

/** Numeric statistics of the values at `keys`. */
export async function fieldNumericStats(db: Queryable, batchId: string, keys: string[]): Promise<NumericRow> {
  const { rows } = await db.query<NumericRow>(NUMERIC_SQL, [batchId, keys]);
  return rows[0]!;
}

/** The first result (in source order) whose value at `keys` is neither a number nor null. */
export async function nonNumericSample(db: Queryable, batchId: string, keys: string[]): Promise<{ record_id: string; value: unknown } | undefined> {
  const { rows } = await db.query<{ record_id: string; value: unknown }>(NON_NUMERIC_SAMPLE_SQL, [batchId, keys]);
  return rows[0];
}

/** Counts of the numbers at `keys` in `bins` equal bins from `min` to `hi` (bin 1 first). */
export async function fieldHistogram(db: Queryable, batchId: string, keys: string[], min: number, hi: number, bins: number): Promise<{ bin: number; count: number }[]> {
  const { rows } = await db.query<{ bin: number; count: number }>(HISTOGRAM_SQL, [batchId, keys, min, hi, bins]);
  return rows;
}
