// A batch's summary, computed by PostgreSQL over the stored jobs in one read-only snapshot: counts,
// retries, cost and durations, and for chosen result fields a distribution or numeric statistics.
// No result leaves the database; a field path reaches SQL only as a text[] parameter.
import type pg from "pg";
import { getPool } from "@/lib/db/client";
import { AppError } from "@/lib/errors";
import { getBatch } from "./batches";
import type { Batch, JobStatus } from "./types";

/** Values listed per group_by field; the rest are counted together as `other`. */
export const SUMMARY_TOP_DEFAULT = 10;
export const SUMMARY_TOP_MAX = 100;
/** Bins of a numeric field's histogram (fewer when the values are a handful of integers). */
export const SUMMARY_HISTOGRAM_BINS = 10;
/** Results sampled (the first in source order) to list the fields a result has, for a picker. */
export const SUMMARY_FIELD_SAMPLE = 1000;
/** Failed jobs' error codes listed, most frequent first. */
const ERROR_CODES_LISTED = 10;

/** A result field: its path as written (`result.label`) and the keys below `result` (`["label"]`). */
export interface ResultField {
  path: string;
  keys: string[];
}

export interface SummaryOptions {
  groupBy?: ResultField[];
  stats?: ResultField[];
  top?: number;
}

export interface Distribution {
  field: string;
  /** results holding a value at the path */
  present: number;
  /** results without one (absent or null) */
  missing: number;
  distinct: number;
  values: { value: unknown; count: number }[];
  /** results whose value is not among `values` */
  other: number;
}

export interface NumericStats {
  field: string;
  count: number;
  missing: number;
  mean: number | null;
  min: number | null;
  max: number | null;
  p50: number | null;
  p95: number | null;
  histogram: { from: number; to: number; count: number }[];
}

export interface BatchSummary {
  batch: Batch;
  counts: Record<JobStatus, number> & { total: number };
  errors: { code: string; count: number }[];
  retriesUsed: number;
  cost: { total: number; meanPerRecord: number | null };
  duration: { count: number; meanMs: number | null; minMs: number | null; maxMs: number | null; p50Ms: number | null; p95Ms: number | null };
  /** top-level result fields seen in a sample of results, with the JSON types their values had */
  fields: { field: string; types: string[]; count: number }[];
  groupBy: Distribution[];
  stats: NumericStats[];
}

interface TotalsRow {
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
  GROUP BY error_code ORDER BY count(*) DESC, error_code LIMIT ${ERROR_CODES_LISTED}`;

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
  FROM (SELECT result FROM jobs WHERE batch_id = $1 AND result IS NOT NULL ORDER BY position LIMIT ${SUMMARY_FIELD_SAMPLE}) s
  CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(s.result) = 'object' THEN s.result ELSE '{}'::jsonb END) e
  WHERE e.key ~ '^[^.,[:space:][\\]]{1,200}$'
  GROUP BY e.key ORDER BY e.key LIMIT 100`;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function fieldError(field: string, message: string, extra: Record<string, unknown> = {}): AppError {
  return new AppError("validation_failed", `${field}: ${message}`, [{ path: field, message, ...extra }]);
}

async function distribution(client: pg.PoolClient, batchId: string, field: ResultField, top: number): Promise<Distribution> {
  const { rows } = await client.query<{ results: number; value: unknown; count: number; present: number; distinct: number }>(DISTRIBUTION_SQL, [
    batchId,
    field.keys,
    top,
  ]);
  if (rows.length === 0) {
    const { rows: r } = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE batch_id = $1 AND result IS NOT NULL", [batchId]);
    const results = r[0]?.n ?? 0;
    // while nothing has a result yet the field may still come; once results exist, a field none has is a typo
    if (results > 0) throw fieldError(field.path, `no result of this batch has the field ${field.path} (${results} results looked at)`);
    return { field: field.path, present: 0, missing: 0, distinct: 0, values: [], other: 0 };
  }
  const first = rows[0]!;
  const listed = rows.reduce((a, r) => a + r.count, 0);
  return {
    field: field.path,
    present: first.present,
    missing: first.results - first.present,
    distinct: first.distinct,
    values: rows.map((r) => ({ value: r.value, count: r.count })),
    other: first.present - listed,
  };
}

async function numericStats(client: pg.PoolClient, batchId: string, field: ResultField): Promise<NumericStats> {
  let row;
  try {
    ({
      rows: [row],
    } = await client.query<{
      results: number;
      count: number;
      non_numeric: number;
      mean: number | null;
      min: number | null;
      max: number | null;
      p50: number | null;
      p95: number | null;
      integers: boolean;
    }>(NUMERIC_SQL, [batchId, field.keys]));
  } catch (err) {
    // a number past a double's range (1e400 is valid JSON)
    if ((err as { code?: string }).code === "22003") throw fieldError(field.path, "holds a number too large to summarise");
    throw err;
  }
  const r = row!;
  if (r.non_numeric > 0) {
    const { rows: sample } = await client.query<{ record_id: string; value: unknown }>(NON_NUMERIC_SAMPLE_SQL, [batchId, field.keys]);
    const s = sample[0];
    const shown = JSON.stringify(s?.value);
    throw fieldError(
      field.path,
      `${r.non_numeric} of ${r.count + r.non_numeric} values are not numbers (e.g. ${shown} in record ${JSON.stringify(s?.record_id)}); stats need numbers`,
      { record_id: s?.record_id ?? null, sample: s?.value ?? null },
    );
  }
  if (r.count === 0 && r.results > 0) throw fieldError(field.path, `no result of this batch has the field ${field.path} (${r.results} results looked at)`);
  const base = { field: field.path, count: r.count, missing: r.results - r.count };
  if (r.count === 0) return { ...base, mean: null, min: null, max: null, p50: null, p95: null, histogram: [] };
  const min = num(r.min)!;
  const max = num(r.max)!;
  return { ...base, mean: num(r.mean), min, max, p50: num(r.p50), p95: num(r.p95), histogram: await histogram(client, batchId, field, min, max, r.integers, r.count) };
}

async function histogram(client: pg.PoolClient, batchId: string, field: ResultField, min: number, max: number, integers: boolean, count: number) {
  if (min === max) return [{ from: min, to: max, count }];
  // a few distinct integers (a 1-5 score) get a bin each rather than bins split between them
  const span = max - min + 1;
  const bins = integers && span <= SUMMARY_HISTOGRAM_BINS ? span : SUMMARY_HISTOGRAM_BINS;
  const hi = integers && span <= SUMMARY_HISTOGRAM_BINS ? max + 1 : max;
  const width = (hi - min) / bins;
  const { rows } = await client.query<{ bin: number; count: number }>(HISTOGRAM_SQL, [batchId, field.keys, min, hi, bins]);
  const counts = new Map(rows.map((r) => [r.bin, r.count]));
  return Array.from({ length: bins }, (_, i) => ({
    from: min + i * width,
    to: i === bins - 1 ? hi : min + (i + 1) * width,
    count: counts.get(i + 1) ?? 0,
  }));
}

export async function getBatchSummary(batchId: string, opts: SummaryOptions = {}): Promise<BatchSummary> {
  const top = Math.max(1, Math.min(opts.top ?? SUMMARY_TOP_DEFAULT, SUMMARY_TOP_MAX));
  const client = await getPool().connect();
  const onError = () => {};
  client.on("error", onError);
  try {
    // one snapshot: the figures of a running batch agree with each other
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    try {
      const batch = await getBatch(batchId);
      const { rows: t } = await client.query<TotalsRow>(TOTALS_SQL, [batchId]);
      const { rows: errors } = await client.query<{ code: string; count: number }>(ERRORS_SQL, [batchId]);
      const { rows: fields } = await client.query<{ field: string; types: string[]; count: number }>(FIELDS_SQL, [batchId]);
      const groupBy: Distribution[] = [];
      for (const f of opts.groupBy ?? []) groupBy.push(await distribution(client, batchId, f, top));
      const stats: NumericStats[] = [];
      for (const f of opts.stats ?? []) stats.push(await numericStats(client, batchId, f));
      const r = t[0]!;
      return {
        batch,
        counts: {
          total: r.total,
          pending: r.pending,
          running: r.running,
          waiting_input: r.waiting_input,
          waiting_provider: r.waiting_provider,
          succeeded: r.succeeded,
          failed: r.failed,
          cancelled: r.cancelled,
          skipped: r.skipped,
        },
        errors,
        retriesUsed: Number(r.retries_used),
        cost: { total: r.cost_total, meanPerRecord: r.ran > 0 ? r.cost_total / r.ran : null },
        duration: { count: r.d_count, meanMs: num(r.d_mean), minMs: num(r.d_min), maxMs: num(r.d_max), p50Ms: num(r.d_p50), p95Ms: num(r.d_p95) },
        fields,
        groupBy,
        stats,
      };
    } finally {
      await client.query("ROLLBACK").catch(() => {});
    }
  } finally {
    client.off("error", onError);
    client.release();
  }
}
