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
const TOTALS_SQL = `
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
         percentile_cont(0.5) WITHIN GROUP (ORDER BY d.ms) AS d_p50,
         percentile_cont(0.95) WITHIN GROUP (ORDER BY d.ms) AS d_p95
  FROM jobs j
  CROSS JOIN LATERAL (
    SELECT CASE WHEN j.status IN ('succeeded', 'failed') AND j.started_at IS NOT NULL AND j.finished_at IS NOT NULL
                THEN extract(epoch FROM j.finished_at - j.started_at)::float8 * 1000 END AS ms
  ) d
  WHERE j.batch_id = $1`;

const ERRORS_SQL = `
  SELECT error_code AS code, count(*)::int AS count
  FROM jobs WHERE batch_id = $1 AND status = 'failed' AND error_code IS NOT NULL
  GROUP BY error_code ORDER BY count(*) DESC, error_code LIMIT $2`;

// the values at one path, over every stored result; `present` and `distinct` are over all groups,
// computed before the LIMIT keeps the top ones
const DISTRIBUTION_SQL = `
  WITH v AS (
    SELECT result #> $2::text[] AS v FROM jobs WHERE batch_id = $1 AND result IS NOT NULL
  ), g AS (
    SELECT v, count(*)::int AS n FROM v WHERE v IS NOT NULL AND v <> 'null'::jsonb GROUP BY v
  )
  SELECT (SELECT count(*)::int FROM v) AS results,
         g.v AS value, g.n AS count,
         sum(g.n) OVER ()::int AS present, count(*) OVER ()::int AS distinct
  FROM g ORDER BY g.n DESC, g.v LIMIT $3`;

const NUMERIC_SQL = `
  WITH v AS (
    SELECT result #> $2::text[] AS v FROM jobs WHERE batch_id = $1 AND result IS NOT NULL
  ), t AS (
    SELECT jsonb_typeof(v) AS type, CASE WHEN jsonb_typeof(v) = 'number' THEN (v #>> '{}')::float8 END AS n FROM v
  )
  SELECT count(*)::int AS results,
         count(n)::int AS count,
         count(*) FILTER (WHERE type IS NOT NULL AND type NOT IN ('number', 'null'))::int AS non_numeric,
         avg(n) AS mean, min(n) AS min, max(n) AS max,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY n) AS p50,
         percentile_cont(0.95) WITHIN GROUP (ORDER BY n) AS p95,
         COALESCE(bool_and(n = trunc(n)), false) AS integers
  FROM t`;

const NON_NUMERIC_SAMPLE_SQL = `
  SELECT record_id, result #> $2::text[] AS value FROM jobs
  WHERE batch_id = $1 AND result IS NOT NULL AND jsonb_typeof(result #> $2::text[]) NOT IN ('number', 'null')
  ORDER BY position LIMIT 1`;

// width_bucket puts the maximum in an extra bucket past the last; LEAST folds it into the last one
const HISTOGRAM_SQL = `
  SELECT LEAST(width_bucket((result #>> $2::text[])::float8, $3::float8, $4::float8, $5::int), $5::int) AS bin, count(*)::int AS count
  FROM jobs WHERE batch_id = $1 AND result IS NOT NULL AND jsonb_typeof(result #> $2::text[]) = 'number'
  GROUP BY 1 ORDER BY 1`;

// keys the field syntax can name (no dots, commas, spaces or brackets)
const FIELDS_SQL = `
  SELECT 'result.' || e.key AS field, array_agg(DISTINCT jsonb_typeof(e.value) ORDER BY jsonb_typeof(e.value)) AS types, count(*)::int AS count
  FROM (SELECT result FROM jobs WHERE batch_id = $1 AND result IS NOT NULL ORDER BY position LIMIT $2) s
  CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(s.result) = 'object' THEN s.result ELSE '{}'::jsonb END) e
  WHERE e.key ~ '^[^.,[:space:][\\]]{1,200}$'
  GROUP BY e.key ORDER BY e.key LIMIT 100`;

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
