// Chunked batches against a real worker (in this process) and real PostgreSQL: a claim's jobs run as
// calls of at most chunk_size, the batch's concurrency counts calls and its progress records; each
// record keeps its own result, error, cost share and retries; cancel and timeout abort the call.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { cancelBatch, createBatch, getBatch, type BatchDetail, type CreateBatchInput } from "@/lib/engine";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { useTestDatabase } from "../helpers/db";
import { chunkCalls, chunkCallsInFlight, registerTestFlows, type ChunkCall } from "./fixtures/flows";
import { createTestTables, expectCountersExact, sampleUntilCompleted, waitFor } from "./helpers";

useTestDatabase();
registerTestFlows();

let worker: WorkerHandle;
beforeAll(async () => {
  await createTestTables();
  worker = await startWorker({ mode: "in-process", concurrency: 16, leaseMs: 1000, pollMs: 50, maintenanceMs: 100, log: () => {} });
});
afterAll(async () => {
  await worker.stop(500);
});

function make(n: number, extra: Partial<CreateBatchInput> = {}, data: (i: number) => object = () => ({})) {
  const records = Array.from({ length: n }, (_, i) => ({ id: `r${i}`, ...data(i) }));
  return createBatch({ flow: "t-chunk", source: { kind: "records", records, recordIdField: "id" }, shuffle: false, ...extra });
}

const callsOf = (batchId: string): ChunkCall[] => chunkCalls.filter((c) => c.batchId === batchId);

function until(id: string, what: string, pred: (b: BatchDetail) => boolean, ms = 20_000) {
  return waitFor(what, async () => {
    const b = await getBatch(id);
    return pred(b) && b;
  }, ms);
}

async function jobsOf(batchId: string) {
  const { rows } = await getPool().query<{ record_id: string; status: string; attempts: number; result: { id: string; size: number } | null; error_code: string | null; error_message: string | null; cost: number }>(
    `SELECT record_id, status::text, attempts, result, error_code, error_message, cost FROM jobs WHERE batch_id = $1 ORDER BY ordinal`,
    [batchId],
  );
  return rows;
}

/** The most calls of the batch in flight at once. */
function peakCalls(calls: ChunkCall[]): number {
  let peak = 0;
  for (const c of calls) peak = Math.max(peak, calls.filter((o) => o.started <= c.started && (o.ended === 0 || o.ended > c.started)).length);
  return peak;
}

describe("chunked batches", () => {
  it("runs a claim's jobs in calls of at most chunk_size, the last one smaller; each record gets its own result", async () => {
    const b = await make(25, { chunk_size: 10, concurrency: 1 });
    await until(b.id, "completed", (x) => x.status === "completed");
    const calls = callsOf(b.id);
    expect(calls.map((c) => c.ids.length)).toEqual([10, 10, 5]);
    const jobs = await jobsOf(b.id);
    expect(jobs.every((j) => j.status === "succeeded" && j.attempts === 1)).toBe(true);
    // results map back to their own record
    expect(jobs.map((j) => j.result?.id)).toEqual(jobs.map((j) => j.record_id));
    expect(jobs.map((j) => j.result?.size)).toEqual([...Array(20).fill(10), ...Array(5).fill(5)]);
    await expectCountersExact(b.id);
  });

  it("concurrency counts calls in flight; progress counts records", async () => {
    const b = await make(60, { chunk_size: 5, concurrency: 3, parameters: { delay_ms: 150 } });
    const { done, maxRunning } = await sampleUntilCompleted(b.id);
    const calls = callsOf(b.id);
    expect(calls.every((c) => c.ids.length <= 5)).toBe(true);
    expect(peakCalls(calls)).toBeLessThanOrEqual(3);
    expect(peakCalls(calls)).toBeGreaterThanOrEqual(2);
    // more records than calls were running at once: the running counter counts records
    expect(maxRunning).toBeGreaterThan(3);
    expect(maxRunning).toBeLessThanOrEqual(15);
    expect(done).toMatchObject({ succeeded: 60, failed: 0 });
    expect(calls.reduce((n, c) => n + c.ids.length, 0)).toBe(60);
  });

  it("calls smaller than chunk_size count one call each: never more than concurrency of them in flight", async () => {
    // the first two calls take 10 records each; every record fails that attempt alone and comes back
    // on its own (40 ms apart), so the retries are claimed in calls of fewer than 10 records, while
    // fewer than 10 records run: counting calls from records (ceil(running / chunk_size)) would let
    // several of them run at once
    const b = await make(20, { chunk_size: 10, concurrency: 2, max_retries: 1, parameters: { delay_ms: 300 } }, (i) => ({ retry_after_ms: i * 40 }));
    const done = await until(b.id, "completed", (x) => x.status === "completed", 30_000);
    expect(done).toMatchObject({ succeeded: 20, failed: 0 });
    const calls = callsOf(b.id);
    const retries = calls.filter((c) => c.attempt === 2);
    // the case under test happened: retries came in calls smaller than chunk_size
    expect(retries.some((c) => c.ids.length < 10)).toBe(true);
    expect(retries.length).toBeGreaterThan(2);
    expect(chunkCallsInFlight.get(b.id)?.peak).toBe(2);
    expect(peakCalls(calls)).toBeLessThanOrEqual(2);
    expect(calls.reduce((n, c) => n + c.ids.length, 0)).toBe(40);
    await expectCountersExact(b.id);
  });

  it("a record the upstream refuses fails alone with its own error; the others of its call succeed", async () => {
    const b = await make(10, { chunk_size: 10, max_retries: 2, retry_backoff_ms: 10 }, (i) => (i === 3 || i === 7 ? { reject: true } : {}));
    const done = await until(b.id, "completed", (x) => x.status === "completed");
    expect(done).toMatchObject({ succeeded: 8, failed: 2 });
    const jobs = await jobsOf(b.id);
    const failed = jobs.filter((j) => j.status === "failed");
    expect(failed.map((j) => j.record_id)).toEqual(["r3", "r7"]);
    expect(failed.map((j) => [j.error_code, j.error_message, j.attempts])).toEqual([
      ["input_too_long", "record r3 is too long", 1],
      ["input_too_long", "record r7 is too long", 1],
    ]);
    expect(callsOf(b.id)).toHaveLength(1);
    await expectCountersExact(b.id);
  });

  it("a call that throws a retryable error retries its records, each record's attempt counted; the cost of a call is split over its records", async () => {
    const b = await make(8, { chunk_size: 4, concurrency: 1, max_retries: 2, retry_backoff_ms: 10, parameters: { fail_attempts: 1, cost: 1 } });
    const done = await until(b.id, "completed", (x) => x.status === "completed");
    expect(done).toMatchObject({ succeeded: 8, failed: 0 });
    const jobs = await jobsOf(b.id);
    expect(jobs.map((j) => j.attempts)).toEqual(Array(8).fill(2));
    // the failed calls reported no cost; each successful call's 1 is split evenly over its records
    // (retries wait out their own jittered backoff, so they regroup into calls of other sizes)
    for (const j of jobs) expect(j.cost).toBeCloseTo(1 / j.result!.size);
    const succeededCalls = callsOf(b.id).filter((c) => c.attempt === 2);
    expect(done.costSpent).toBeCloseTo(succeededCalls.length);
    const { rows } = await getPool().query<{ n: number; retried: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE a.outcome = 'retried' AND a.error_code = 'upstream_down')::int AS retried
       FROM job_attempts a JOIN jobs j ON j.id = a.job_id WHERE j.batch_id = $1`,
      [b.id],
    );
    // an attempt row per record per attempt
    expect(rows[0]).toEqual({ n: 16, retried: 8 });
    expect(callsOf(b.id).every((c) => c.ids.length <= 4)).toBe(true);
  });

  it("cancel mid-chunk aborts the call's signal; nothing is written for its records", async () => {
    const b = await make(20, { chunk_size: 10, concurrency: 2, parameters: { delay_ms: 30_000 } });
    await waitFor("calls started", async () => callsOf(b.id).length === 2);
    await cancelBatch(b.id);
    await waitFor("calls aborted", async () => callsOf(b.id).every((c) => c.ended > 0));
    expect(callsOf(b.id).every((c) => c.aborted && c.ended - c.started < 10_000)).toBe(true);
    const done = await getBatch(b.id);
    expect(done.status).toBe("cancelled");
    expect(done).toMatchObject({ succeeded: 0, failed: 0, running: 0, cancelled: 20 });
    await expectCountersExact(b.id);
  });

  it("a call past the batch's timeout is aborted: each of its records fails with timeout", async () => {
    const b = await make(6, { chunk_size: 3, concurrency: 2, timeout_ms: 200, parameters: { delay_ms: 30_000 } });
    const done = await until(b.id, "completed", (x) => x.status === "completed", 10_000);
    expect(done.failed).toBe(6);
    const jobs = await jobsOf(b.id);
    expect(jobs.every((j) => j.error_code === "timeout" && j.attempts === 1)).toBe(true);
    expect(callsOf(b.id).every((c) => c.aborted)).toBe(true);
  });

  it("a non-chunked batch beside a chunked one keeps one record per call", async () => {
    const plain = await createBatch({ flow: "t-chunk", chunk_size: 1, source: { kind: "records", records: [{ id: "a" }, { id: "b" }], recordIdField: "id" } });
    const done = await until(plain.id, "completed", (x) => x.status === "completed");
    expect(done.succeeded).toBe(2);
    // chunk_size 1 runs run(), not runChunk
    expect(callsOf(plain.id)).toHaveLength(0);
  });
});
