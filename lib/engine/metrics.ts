// A batch's metrics over time: counts and cost from batch_metrics (per second), duration percentiles
// computed exactly from its ended attempts (job_attempts). The fixed log-scale duration histogram
// (upper bounds, in ms) feeds the Prometheus histogram and answers for batches run before attempts
// were recorded.
import { AppError } from "@/lib/errors";
import { getPool } from "@/lib/db/client";
import { attemptPercentiles, batchMetricRows, batchSpan } from "@/lib/db/sql/stats";
import type { MetricsPoint } from "./types";

/** Upper bounds (ms) of each histogram bucket; the last bucket is open-ended. */
export const DURATION_BOUNDS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 60_000, 120_000, 300_000, 600_000,
] as const;
export const HISTOGRAM_SIZE = DURATION_BOUNDS_MS.length + 1;

export function durationBucket(ms: number): number {
  for (let i = 0; i < DURATION_BOUNDS_MS.length; i++) if (ms <= DURATION_BOUNDS_MS[i]!) return i;
  return DURATION_BOUNDS_MS.length;
}

export function emptyHistogram(): number[] {
  return new Array<number>(HISTOGRAM_SIZE).fill(0);
}

export function mergeHistograms(into: number[], from: readonly number[] | null | undefined): number[] {
  if (!from) return into;
  for (let i = 0; i < HISTOGRAM_SIZE; i++) into[i] = (into[i] ?? 0) + (from[i] ?? 0);
  return into;
}

/** The q-quantile as the upper bound of the bucket it falls in (the open bucket reports the last bound). */
export function histogramPercentile(hist: readonly number[], q: number): number | null {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i] ?? 0;
    if (seen >= rank) return DURATION_BOUNDS_MS[Math.min(i, DURATION_BOUNDS_MS.length - 1)]!;
  }
  return DURATION_BOUNDS_MS[DURATION_BOUNDS_MS.length - 1]!;
}

const round1 = (ms: number) => Math.round(ms * 10) / 10;

/** Picks a bucket width giving at most ~120 points over the batch's lifetime. */
function autoBucketSeconds(spanSeconds: number): number {
  const steps = [1, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400];
  return steps.find((s) => spanSeconds / s <= 120) ?? 86400;
}

/**
 * Percentiles of buckets that have closed, per batch and bucket width. An attempt's finished_at is the
 * now() of the statement that wrote it, so once a bucket has ended (plus SETTLE_MS for a transaction
 * that commits late) its percentiles are final: a read computes only the buckets still open, through
 * the BRIN index on finished_at, instead of every attempt of the batch each time the chart refreshes.
 */
const SETTLE_MS = 15_000;
const CACHE_ENTRIES = 500;
interface ClosedPercentiles {
  /** start (ms) of the first bucket not yet closed: every bucket before it is in `points` or empty */
  openFrom: number;
  points: Map<number, { p50: number; p95: number }>;
}
const closedPercentiles = new Map<string, ClosedPercentiles>();

async function bucketPercentiles(batchId: string, width: number, nowMs: number) {
  const key = `${batchId}:${width}`;
  const cached = closedPercentiles.get(key);
  const from = cached?.openFrom ?? 0;
  const exact = await attemptPercentiles(getPool(), batchId, width, from);
  const all = new Map(cached?.points);
  for (const r of exact) all.set(r.t, { p50: r.p50, p95: r.p95 });
  const openFrom = Math.floor((nowMs - SETTLE_MS) / (width * 1000)) * width * 1000;
  const closed = new Map([...all].filter(([t]) => t < openFrom));
  closedPercentiles.delete(key); // re-inserted last: the map's order is least recently used first
  closedPercentiles.set(key, { openFrom: Math.max(openFrom, from), points: closed });
  while (closedPercentiles.size > CACHE_ENTRIES) closedPercentiles.delete(closedPercentiles.keys().next().value!);
  return all;
}

export async function getBatchMetrics(
  batchId: string,
  bucketSeconds?: number,
): Promise<{ bucketSeconds: number; series: MetricsPoint[] }> {
  const batch = await batchSpan(getPool(), batchId);
  if (!batch) throw new AppError("not_found", `batch ${JSON.stringify(batchId)} not found`);
  const rows = await batchMetricRows(getPool(), batchId);
  const first = rows[0]?.bucket ?? batch.created_at;
  const last = rows[rows.length - 1]?.bucket ?? batch.completed_at ?? new Date();
  const width = bucketSeconds && bucketSeconds > 0 ? Math.floor(bucketSeconds) : autoBucketSeconds((last.getTime() - first.getTime()) / 1000);
  const points = new Map<number, { succeeded: number; failed: number; cost: number; hist: number[] }>();
  for (const r of rows) {
    const t = Math.floor(r.bucket.getTime() / 1000 / width) * width * 1000;
    let p = points.get(t);
    if (!p) points.set(t, (p = { succeeded: 0, failed: 0, cost: 0, hist: emptyHistogram() }));
    p.succeeded += r.succeeded;
    p.failed += r.failed;
    p.cost += r.cost;
    mergeHistograms(p.hist, r.duration_hist);
  }
  // the percentiles of the attempts that finished their job in each bucket, as the counts above
  // count them (an attempt's finished_at and its metrics row's second come from one statement's now())
  const percentiles = await bucketPercentiles(batchId, width, batch.now.getTime());
  let cumulative = 0;
  const series: MetricsPoint[] = [...points.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([t, p]) => {
      cumulative += p.cost;
      const q = percentiles.get(t);
      return {
        t: new Date(t),
        succeeded: p.succeeded,
        failed: p.failed,
        cost: p.cost,
        cumulativeCost: cumulative,
        p50Ms: q ? round1(q.p50) : histogramPercentile(p.hist, 0.5),
        p95Ms: q ? round1(q.p95) : histogramPercentile(p.hist, 0.95),
      };
    });
  return { bucketSeconds: width, series };
}
