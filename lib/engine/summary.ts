// A batch's summary, computed by PostgreSQL over the stored jobs in one read-only snapshot: counts,
// retries, cost and durations, and for chosen result fields a distribution or numeric statistics.
// No result leaves the database; a field path reaches SQL only as a text[] parameter.
import type { Queryable } from "@/lib/db/sql/queryable";
import {
  countResults,
  fieldDistribution,
  fieldHistogram,
  fieldNumericStats,
  nonNumericSample,
  summaryErrors,
  summaryFields,
  summaryOnOneCore,
  summaryTotals,
} from "@/lib/db/sql/summary";
import { inReadOnlySnapshot } from "@/lib/db/tx";
import { isTerminalBatch } from "@/lib/contract/statuses";
import { autoStatsFields, detectLabelField } from "@/lib/contract/summary-fields";
import { AppError } from "@/lib/errors";
import { getBatch } from "./batches";
import type { BatchDetail } from "./batches";
import type { JobStatus } from "./types";

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
  /**
   * Choose the fields from the sampled `fields` where groupBy / stats name none: the batch's label-like
   * field (lib/contract/summary-fields) and its first numeric fields, in the same snapshot, so a
   * viewer that knows no field yet needs one request rather than one to list them and one to ask.
   */
  auto?: boolean;
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
  batch: BatchDetail;
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

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function fieldError(field: string, message: string, extra: Record<string, unknown> = {}): AppError {
  return new AppError("validation_failed", `${field}: ${message}`, [{ path: field, message, ...extra }]);
}

async function distribution(client: Queryable, batchId: string, field: ResultField, top: number): Promise<Distribution> {
  const rows = await fieldDistribution(client, batchId, field.keys, top);
  if (rows.length === 0) {
    const results = await countResults(client, batchId);
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

async function numericStats(client: Queryable, batchId: string, field: ResultField): Promise<NumericStats> {
  let row;
  try {
    row = await fieldNumericStats(client, batchId, field.keys);
  } catch (err) {
    // a number past a double's range (1e400 is valid JSON)
    if ((err as { code?: string }).code === "22003") throw fieldError(field.path, "holds a number too large to summarise");
    throw err;
  }
  const r = row!;
  if (r.non_numeric > 0) {
    const s = await nonNumericSample(client, batchId, field.keys);
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

async function histogram(client: Queryable, batchId: string, field: ResultField, min: number, max: number, integers: boolean, count: number) {
  if (min === max) return [{ from: min, to: max, count }];
  // a few distinct integers (a 1-5 score) get a bin each rather than bins split between them
  const span = max - min + 1;
  const bins = integers && span <= SUMMARY_HISTOGRAM_BINS ? span : SUMMARY_HISTOGRAM_BINS;
  const hi = integers && span <= SUMMARY_HISTOGRAM_BINS ? max + 1 : max;
  const width = (hi - min) / bins;
  const rows = await fieldHistogram(client, batchId, field.keys, min, hi, bins);
  const counts = new Map(rows.map((r) => [r.bin, r.count]));
  return Array.from({ length: bins }, (_, i) => ({
    from: min + i * width,
    to: i === bins - 1 ? hi : min + (i + 1) * width,
    count: counts.get(i + 1) ?? 0,
  }));
}

/**
 * The summary of a batch that has finished (completed, failed or cancelled) is computed once and kept:
 * its jobs no longer change, and on a 1,000,000-job batch the scans take seconds (13 s measured in
 * bench/pages), which every view of the page would otherwise pay again, competing with the page for
 * the machine. An entry is keyed by the batch's state (status, counters, cost, updated_at): every
 * change to a finished batch's jobs (a retry, a cancel) also writes the batch row, so a kept summary
 * is never served for jobs that changed since. Requests for the same summary while it is being
 * computed share that one computation, for any batch.
 */
const SUMMARY_CACHE_MAX = 200;
const summaryCache = new Map<string, { stamp: string; value: Promise<BatchSummary> }>();

/** What a finished batch's summary depends on, read from the batch row. */
function batchStamp(b: BatchDetail): string {
  return JSON.stringify([b.status, b.total, b.pending, b.running, b.reserved, b.waitingInput, b.waitingProvider, b.succeeded, b.failed, b.cancelled, b.skipped, b.costSpent, b.updatedAt.getTime(), b.completedAt?.getTime() ?? null]);
}

export async function getBatchSummary(batchId: string, opts: SummaryOptions = {}): Promise<BatchSummary> {
  const top = Math.max(1, Math.min(opts.top ?? SUMMARY_TOP_DEFAULT, SUMMARY_TOP_MAX));
  // the stamp first: a finished batch whose state is unchanged is answered from the kept summary
  const current = await getBatch(batchId);
  const key = JSON.stringify([batchId, top, (opts.groupBy ?? []).map((f) => f.keys), (opts.stats ?? []).map((f) => f.keys), opts.auto ?? false]);
  const stamp = batchStamp(current);
  const kept = summaryCache.get(key);
  if (kept && kept.stamp === stamp) {
    // most recently used last: the oldest entry is the first one evicted
    summaryCache.delete(key);
    summaryCache.set(key, kept);
    const shared = await kept.value;
    // a kept finished summary has the stamp of the batch just read (its counters), and that read has
    // the live rate limit; a summary still being computed answers with the batch of its own snapshot
    return isTerminalBatch(current.status) ? { ...shared, batch: current } : shared;
  }
  const value = computeSummary(batchId, current.flow, opts, top);
  summaryCache.set(key, { stamp, value });
  while (summaryCache.size > SUMMARY_CACHE_MAX) summaryCache.delete(summaryCache.keys().next().value!);
  const forget = () => {
    if (summaryCache.get(key)?.value === value) summaryCache.delete(key);
  };
  // kept only for a batch finished in the snapshot and unchanged since its stamp was read; a running
  // batch's summary is shared only while it is being computed; a failed computation is not kept
  value.then((s) => (isTerminalBatch(s.batch.status) && batchStamp(s.batch) === stamp ? undefined : forget()), forget);
  return value;
}

/** A field the summary chose by itself, in the form a named one takes. */
const chosen = (path: string): ResultField => ({ path, keys: path.split(".").slice(1) });

async function computeSummary(batchId: string, flow: string, opts: SummaryOptions, top: number): Promise<BatchSummary> {
  // one snapshot: the figures of a running batch agree with each other and with the batch's counters
  return inReadOnlySnapshot(async (client) => {
    await summaryOnOneCore(client);
    const batch = await getBatch(batchId, client);
    const r = await summaryTotals(client, batchId);
    const errors = await summaryErrors(client, batchId, ERROR_CODES_LISTED);
    const fields = await summaryFields(client, batchId, SUMMARY_FIELD_SAMPLE);
    let groupByFields = opts.groupBy ?? [];
    let statsFields = opts.stats ?? [];
    if (opts.auto && !groupByFields.length) groupByFields = [detectLabelField(flow, fields)].filter((f) => f !== null).map(chosen);
    if (opts.auto && !statsFields.length) statsFields = autoStatsFields(fields).map(chosen);
    const groupBy: Distribution[] = [];
    for (const f of groupByFields) groupBy.push(await distribution(client, batchId, f, top));
    const stats: NumericStats[] = [];
    for (const f of statsFields) stats.push(await numericStats(client, batchId, f));
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
  });
}
