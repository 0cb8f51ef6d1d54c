// Attempts count every run of the flow, also those after a manual retry, and each one is listed with
// its start, end, outcome and error. A manual retry gives max_retries a fresh allowance. Real worker,
// real PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toJobDetailJson } from "@/lib/api/serialize";
import { createBatch, getBatch, getJob, retryBatch, retryJob, type CreateBatchInput } from "@/lib/engine";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { useTestDatabase } from "../helpers/db";
import { registerTestFlows } from "./fixtures/flows";
import { createTestTables, expectCountersExact, waitFor } from "./helpers";

useTestDatabase();
registerTestFlows();

let worker: WorkerHandle;
beforeAll(async () => {
  await createTestTables();
  worker = await startWorker({ mode: "in-process", concurrency: 4, leaseMs: 1000, pollMs: 50, maintenanceMs: 100, log: () => {} });
});
afterAll(async () => {
  await worker.stop(500);
});

function make(flow: string, records: object[], extra: Partial<CreateBatchInput> = {}) {
  return createBatch({ flow, source: { kind: "records", records, recordIdField: "id" }, shuffle: false, retry_backoff_ms: 1, ...extra });
}

const ended = (id: string) =>
  waitFor(`batch ${id} to end`, async () => {
    const b = await getBatch(id);
    return ["completed", "failed", "cancelled"].includes(b.status) && b;
  });

describe("attempts after a manual retry", () => {
  it("keep counting: the second run is attempt 2, and both runs are listed", async () => {
    // fails its first attempt only; max_retries 0, so the record fails until a person retries it
    const b = await make("t-fail", [{ id: "a" }], { parameters: { fail_times: 1 } });
    await ended(b.id);
    expect((await getJob(b.id, "a")).status).toBe("failed");
    await retryBatch(b.id);
    expect((await ended(b.id)).status).toBe("completed");
    const job = toJobDetailJson(await getJob(b.id, "a"));
    expect(job.status).toBe("succeeded");
    expect(job.attempts).toBe(2);
    expect(job.result).toEqual({ ok: true, attempt: 2 });
    expect(job.attempt_history.map((a) => [a.attempt, a.outcome, a.error?.code ?? null])).toEqual([
      [1, "failed", "boom"],
      [2, "succeeded", null],
    ]);
    for (const a of job.attempt_history) {
      expect(Date.parse(a.finished_at)).toBeGreaterThanOrEqual(Date.parse(a.started_at!));
      expect(a.duration_ms).toBeGreaterThanOrEqual(0);
    }
    expect(Date.parse(job.attempt_history[1]!.started_at!)).toBeGreaterThanOrEqual(Date.parse(job.attempt_history[0]!.finished_at));
    await expectCountersExact(b.id);
  });

  it("give max_retries a fresh allowance: a retried record runs 1 + max_retries times again", async () => {
    const b = await make("t-fail", [{ id: "x", fail: true }], { max_retries: 1 });
    await ended(b.id);
    expect((await getJob(b.id, "x")).attempts).toBe(2);
    await retryJob(b.id, "x");
    await ended(b.id);
    const job = toJobDetailJson(await getJob(b.id, "x"));
    expect(job.status).toBe("failed");
    expect(job.attempts).toBe(4);
    expect(job.attempt_history.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, "retried"],
      [2, "failed"],
      [3, "retried"],
      [4, "failed"],
    ]);
    expect(job.attempt_history.every((a) => a.error?.code === "boom")).toBe(true);
  });

  it("list the cost each attempt reported", async () => {
    const b = await make("t-cost", [{ id: "c" }], { parameters: { cost: 0.25 } });
    await ended(b.id);
    const job = toJobDetailJson(await getJob(b.id, "c"));
    expect(job.attempt_history).toMatchObject([{ attempt: 1, outcome: "succeeded", cost: 0.25, error: null }]);
  });
});
