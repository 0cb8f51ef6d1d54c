// max_cost with cost_reservation: each running job's estimated cost is counted against the budget
// before another starts, so the batch ends within one job's cost of max_cost. Without it every job
// in flight may still spend (the documented overshoot: up to concurrency jobs' cost). Real worker.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toBatchJson } from "@/lib/api/serialize";
import { createBatch, getBatch, type CreateBatchInput } from "@/lib/engine";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { useTestDatabase } from "../helpers/db";
import { registerTestFlows } from "./fixtures/flows";
import { createTestTables, expectCountersExact, waitFor } from "./helpers";

useTestDatabase();
registerTestFlows();

let worker: WorkerHandle;
beforeAll(async () => {
  await createTestTables();
  worker = await startWorker({ mode: "in-process", concurrency: 10, leaseMs: 2000, pollMs: 50, maintenanceMs: 100, log: () => {} });
});
afterAll(async () => {
  await worker.stop(500);
});

const COST = 0.01;
const MAX_COST = 0.05;
const CONCURRENCY = 10;

async function run(extra: Partial<CreateBatchInput>) {
  const b = await createBatch({
    flow: "t-cost",
    source: { kind: "records", records: Array.from({ length: 60 }, (_, i) => ({ id: `r${i}` })), recordIdField: "id" },
    parameters: { cost: COST, delay_ms: 40 },
    concurrency: CONCURRENCY,
    max_cost: MAX_COST,
    ...extra,
  });
  const done = await waitFor(`batch ${b.id} to end`, async () => {
    const x = await getBatch(b.id);
    return ["completed", "failed", "cancelled"].includes(x.status) && x;
  });
  expect(done.stopReason).toBe("budget_exhausted");
  await expectCountersExact(b.id);
  return done;
}

// float sums of 0.01 are a hair off: the bounds allow a millionth
const EPS = 1e-6;

describe("max_cost", () => {
  it("without a reservation, every job in flight may still spend: up to concurrency jobs past max_cost", async () => {
    const b = await run({});
    expect(b.costSpent).toBeGreaterThanOrEqual(MAX_COST - EPS);
    expect(b.costSpent).toBeLessThanOrEqual(MAX_COST + CONCURRENCY * COST + EPS);
    // ten started at once on a budget of five
    expect(b.costSpent).toBeGreaterThan(MAX_COST + COST + EPS);
  });

  it("cost_reservation per_record: ends within one job's cost of max_cost", async () => {
    const b = await run({ cost_reservation: { per_record: COST } });
    expect(b.costSpent).toBeGreaterThanOrEqual(MAX_COST - EPS);
    expect(b.costSpent).toBeLessThanOrEqual(MAX_COST + COST + EPS);
    expect(toBatchJson(b).options.cost_reservation).toEqual({ per_record: COST });
  });

  it("cost_reservation mean: the running mean cost per finished record, one job alone until one has finished", async () => {
    const b = await run({ cost_reservation: "mean" });
    expect(b.costSpent).toBeGreaterThanOrEqual(MAX_COST - EPS);
    expect(b.costSpent).toBeLessThanOrEqual(MAX_COST + COST + EPS);
    expect(toBatchJson(b).options.cost_reservation).toBe("mean");
  });

  it("refuses a cost_reservation without max_cost, or with a negative estimate", async () => {
    const records = { kind: "records" as const, records: [{ id: "a" }], recordIdField: "id" };
    await expect(createBatch({ flow: "t-cost", source: records, cost_reservation: "mean" })).rejects.toMatchObject({ code: "validation_failed" });
    await expect(createBatch({ flow: "t-cost", source: records, max_cost: 1, cost_reservation: { per_record: -1 } })).rejects.toMatchObject({
      code: "validation_failed",
    });
  });
});
