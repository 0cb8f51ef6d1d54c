// The duration percentiles of GET /api/batches/{id}/metrics are the jobs' real ones (within 5%), not
// the bound of a histogram bucket. Durations are written through the worker cycle with known values.
import { beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { createBatch, getBatchMetrics } from "@/lib/engine";
import { claimJobs } from "@/lib/engine/claim";
import { runCycle, type ClaimedJob, type Outcome } from "@/lib/engine/cycle";
import { useTestDatabase } from "../helpers/db";
import { registerTestFlows } from "./fixtures/flows";

useTestDatabase();
registerTestFlows();

const OWNER = "timer-1";
beforeAll(async () => {
  await getPool().query(`INSERT INTO workers (id, host, pid, mode, lease_until) VALUES ($1, 'test', 0, 'standalone', now() + interval '1 hour')`, [OWNER]);
});

const outcome = (job: ClaimedJob, durationMs: number): Outcome => ({
  id: job.id, attempts: job.attempts, interruptions: job.interruptions, status: "succeeded", result: "1", cost: 0, logs: null, delayMs: 0, durationMs,
});

/** The q-quantile with linear interpolation between closest ranks (PostgreSQL's percentile_cont). */
function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
}

async function finishWith(durations: number[]) {
  const batch = await createBatch({
    flow: "t-echo",
    source: { kind: "records", records: durations.map((_, i) => ({ id: `r${i}` })), recordIdField: "id" },
    concurrency: durations.length,
  });
  const jobs = await claimJobs(OWNER, durations.length, 60_000);
  expect(jobs).toHaveLength(durations.length);
  const byId = new Map(jobs.map((j, i) => [j.id, durations[i]!]));
  const r = await runCycle(getPool(), OWNER, jobs.map((j) => outcome(j, byId.get(j.id)!)), null);
  expect(r.applied).toBe(durations.length);
  return batch.id;
}

const within5 = (got: number | null, truth: number) => {
  expect(got).not.toBeNull();
  expect(Math.abs(got! - truth) / truth).toBeLessThanOrEqual(0.05);
};

describe("duration percentiles", () => {
  it("jobs that all took 203-206 ms read p50 and p95 within 5% of the real values", async () => {
    const durations = Array.from({ length: 40 }, (_, i) => 203 + (i % 4));
    const id = await finishWith(durations);
    const { series } = await getBatchMetrics(id, 3600);
    expect(series).toHaveLength(1);
    within5(series[0]!.p50Ms, quantile(durations, 0.5));
    within5(series[0]!.p95Ms, quantile(durations, 0.95));
  });

  it("a spread of durations, from 3 ms to 40 s, also reads within 5%", async () => {
    const durations = Array.from({ length: 200 }, (_, i) => Math.round(3 * Math.pow(1.049, i)));
    const id = await finishWith(durations);
    const { series } = await getBatchMetrics(id, 3600);
    expect(series).toHaveLength(1);
    within5(series[0]!.p50Ms, quantile(durations, 0.5));
    within5(series[0]!.p95Ms, quantile(durations, 0.95));
    expect(series[0]!.succeeded).toBe(200);
  });
});

describe("duration percentiles of a running batch's chart", () => {
  const attemptsAt = async (batchId: string, at: string, durations: number[]) => {
    const pool = getPool();
    const { rows } = await pool.query<{ n: string }>(`SELECT coalesce(max(job_id), 0) AS n FROM job_attempts WHERE batch_id = $1`, [batchId]);
    const base = Number(rows[0]!.n);
    await pool.query(
      `INSERT INTO job_attempts (batch_id, job_id, attempt, outcome, finished_at, duration_ms)
       SELECT $1, $2::bigint + i, 1, 'succeeded', $3::timestamptz, d FROM unnest($4::int[]) WITH ORDINALITY AS t(d, i)`,
      [batchId, base + 1_000_000, at, durations],
    );
    await pool.query(
      `INSERT INTO batch_metrics (batch_id, bucket, succeeded) VALUES ($1, date_trunc('second', $2::timestamptz), $3)
       ON CONFLICT (batch_id, bucket) DO UPDATE SET succeeded = batch_metrics.succeeded + excluded.succeeded`,
      [batchId, at, durations.length],
    );
  };

  it("a bucket still open is computed again on every read: new attempts move its percentiles", async () => {
    const id = await finishWith([100, 100, 100, 100]);
    const before = await getBatchMetrics(id, 3600);
    within5(before.series.at(-1)!.p50Ms, 100);
    await attemptsAt(id, new Date().toISOString(), Array.from({ length: 20 }, () => 900));
    const after = await getBatchMetrics(id, 3600);
    within5(after.series.at(-1)!.p50Ms, 900);
  });

  it("a bucket that closed keeps the percentiles its attempts gave, without reading them again", async () => {
    const id = await finishWith([50]);
    const hourAgo = new Date(Date.now() - 3_600_000);
    hourAgo.setUTCSeconds(0, 0);
    await attemptsAt(id, hourAgo.toISOString(), Array.from({ length: 9 }, (_, i) => 10 * (i + 1)));
    const first = await getBatchMetrics(id, 60);
    const closed = first.series.find((p) => p.t.getTime() === hourAgo.getTime())!;
    within5(closed.p50Ms, 50);
    within5(closed.p95Ms, quantile(Array.from({ length: 9 }, (_, i) => 10 * (i + 1)), 0.95));
    // its attempts are gone from the table: a read that computed them again would fall back to the
    // coarse histogram (null here: these metrics rows carry none)
    await getPool().query(`DELETE FROM job_attempts WHERE batch_id = $1 AND finished_at = $2`, [id, hourAgo]);
    const again = await getBatchMetrics(id, 60);
    expect(again.series.find((p) => p.t.getTime() === hourAgo.getTime())).toEqual(closed);
  });
});
