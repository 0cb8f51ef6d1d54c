// How a batch ended, as the API says it beside its status: completed with or without failures, every
// record failed, cancelled part-way (the share processed), stopped (the reason and the numbers that
// made it stop, kept when it happened). Real worker, real PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toBatchJson } from "@/lib/api/serialize";
import { getPool } from "@/lib/db/client";
import { cancelBatch, createBatch, getBatch, retryBatch, type CreateBatchInput } from "@/lib/engine";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { useTestDatabase } from "../helpers/db";
import { registerTestFlows } from "./fixtures/flows";
import { createTestTables, expectCountersExact, waitFor } from "./helpers";

useTestDatabase();
registerTestFlows();

let worker: WorkerHandle;
beforeAll(async () => {
  await createTestTables();
  worker = await startWorker({ mode: "in-process", concurrency: 8, leaseMs: 1000, pollMs: 50, maintenanceMs: 100, log: () => {} });
});
afterAll(async () => {
  await worker.stop(500);
});

const records = (n: number, f: (i: number) => object = () => ({})) => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, ...f(i) }));

function make(flow: string, n: number, extra: Partial<CreateBatchInput> = {}, f?: (i: number) => object) {
  return createBatch({ flow, source: { kind: "records", records: records(n, f), recordIdField: "id" }, shuffle: false, ...extra });
}

const ended = (id: string) =>
  waitFor(`batch ${id} to end`, async () => {
    const b = await getBatch(id);
    return ["completed", "failed", "cancelled"].includes(b.status) && b;
  });

const outcomeOf = async (id: string) => toBatchJson(await getBatch(id)).outcome;

describe("a completed batch's outcome", () => {
  it("tells all succeeded, some failed and all failed apart, though the status reads completed for each", async () => {
    const ok = await make("t-echo", 5);
    const some = await make("t-fail", 10, { parameters: { fail_times: 0 } }, (i) => (i < 3 ? { fail: true } : {}));
    const none = await make("t-fail", 4, { parameters: { retryable: false } });
    for (const b of [ok, some, none]) expect((await ended(b.id)).status).toBe("completed");
    expect(await outcomeOf(ok.id)).toEqual({ kind: "all_succeeded", succeeded: 5 });
    expect(await outcomeOf(some.id)).toEqual({ kind: "some_failed", succeeded: 7, failed: 3 });
    expect(await outcomeOf(none.id)).toEqual({ kind: "all_failed", failed: 4 });
  });

  it("is null while the batch is active", async () => {
    const b = await make("t-hang", 2, { concurrency: 1 });
    await waitFor("running", async () => (await getBatch(b.id)).running === 1);
    expect(await outcomeOf(b.id)).toBeNull();
    await cancelBatch(b.id);
  });
});

describe("a stop keeps its numbers", () => {
  it("error threshold: failed, finished, rate and threshold as they were when it stopped", async () => {
    const b = await make("t-fail", 60, { concurrency: 1, error_threshold: { rate: 0.5, min_finished: 6 }, parameters: { fail_times: 0 } }, (i) =>
      i % 2 === 0 ? { fail: true } : {},
    );
    const x = await ended(b.id);
    expect(x.status).toBe("failed");
    const outcome = await outcomeOf(b.id);
    expect(outcome?.kind).toBe("stopped");
    if (outcome?.kind !== "stopped" || outcome.stop.reason !== "error_threshold") throw new Error(JSON.stringify(outcome));
    const { stop } = outcome;
    // a threshold stop aborts what runs, so the counters still hold the numbers it stopped on
    expect(stop).toEqual({
      reason: "error_threshold",
      failed: x.failed,
      finished: x.succeeded + x.failed,
      rate: Math.round((x.failed / (x.succeeded + x.failed)) * 1e4) / 1e4,
      threshold: 0.5,
      min_finished: 6,
    });
    expect(stop.finished).toBeGreaterThanOrEqual(6);
    expect(stop.rate).toBeGreaterThanOrEqual(0.5);
    expect(outcome).toMatchObject({ processed: stop.finished, total: 60, percent: Math.round((stop.finished / 60) * 1e4) / 100 });
    await expectCountersExact(b.id);
  });

  it("error policy stop: the record that failed, with its error", async () => {
    const b = await make("t-fail", 40, { concurrency: 4, error_policy: "stop", parameters: { fail_times: 0, delay_ms: 40 } }, (i) =>
      i === 6 ? { fail: true } : {},
    );
    expect((await ended(b.id)).status).toBe("failed");
    expect(await outcomeOf(b.id)).toMatchObject({
      kind: "stopped",
      total: 40,
      stop: { reason: "error_policy", failed: 1, record_id: "r6", error: { code: "boom", message: "attempt 1 failed" } },
    });
  });

  it("budget: the spend when it stopped, and the budget", async () => {
    const b = await make("t-cost", 50, { concurrency: 3, max_cost: 5, parameters: { cost: 1, delay_ms: 30 } });
    const x = await ended(b.id);
    const outcome = await outcomeOf(b.id);
    if (outcome?.kind !== "stopped" || outcome.stop.reason !== "budget_exhausted") throw new Error(JSON.stringify(outcome));
    expect(outcome.stop.max_cost).toBe(5);
    expect(outcome.stop.spent).toBeGreaterThanOrEqual(5);
    // jobs running at the stop may still spend: the final spend is at least the spend at the stop
    expect(outcome.stop.spent).toBeLessThanOrEqual(x.costSpent);
    expect(outcome.processed).toBe(x.succeeded);
  });

  it("cancel: the share processed before the cancel, not 100%", async () => {
    const b = await make("t-track", 40, { concurrency: 2, parameters: { delay_ms: 60 } });
    await waitFor("some succeeded", async () => (await getBatch(b.id)).succeeded >= 4);
    const cancelled = await cancelBatch(b.id);
    const processed = cancelled.succeeded + cancelled.failed;
    const json = toBatchJson(cancelled);
    expect(json.outcome).toEqual({ kind: "cancelled_at", processed, total: 40, percent: Math.round((processed / 40) * 1e4) / 100 });
    expect(json.outcome?.kind === "cancelled_at" && json.outcome.percent).toBeLessThan(100);
    // every record is in a final state, so progress.percent reads 100: the outcome says how much ran
    expect(json.progress.percent).toBe(100);
    const stored = await getPool().query(`SELECT stop_detail FROM batches WHERE id = $1`, [b.id]);
    expect(stored.rows[0].stop_detail).toEqual({ reason: "cancelled", processed, total: 40 });
  });

  it("a retry of a stopped batch forgets the stop and its numbers", async () => {
    const b = await make("t-fail", 10, { concurrency: 2, error_policy: "stop", parameters: { fail_times: 0 } }, (i) => (i === 0 ? { fail: true } : {}));
    expect((await ended(b.id)).status).toBe("failed");
    const { batch } = await retryBatch(b.id, ["failed", "skipped"]);
    expect(batch.stopReason).toBeNull();
    expect(batch.stopDetail).toBeNull();
    expect(toBatchJson(batch).outcome).toBeNull();
    await ended(b.id);
  });
});
