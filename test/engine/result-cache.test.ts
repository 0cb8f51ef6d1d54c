// A batch with `cache` reuses the results of an earlier batch's succeeded jobs of the same flow,
// parameters and record data instead of running the flow: those jobs are succeeded at creation, cost
// nothing, name the batch their result came from, and the batch counts them and the cost saved.
// Real worker, real PostgreSQL.
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBatchSchema } from "@/lib/contract/batch-options";
import { toBatchJson, toJobJson } from "@/lib/api/serialize";
import { getPool } from "@/lib/db/client";
import { answerPrompt, createBatch, getBatch, getJob, listPrompts, type CreateBatchInput } from "@/lib/engine";
import { registerFlow } from "@/lib/flows/registry";
import { defineFlow } from "@/lib/flows/types";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { useTestDatabase } from "../helpers/db";
import { registerTestFlows } from "./fixtures/flows";
import { createTestTables, executions, expectCountersExact, waitFor } from "./helpers";

useTestDatabase();
registerTestFlows();
registerFlow(
  defineFlow({
    name: "t-cached-by-default",
    description: "a flow whose batches reuse results unless they say otherwise",
    parameters: z.object({}),
    cache: true,
    async run(record) {
      return { seen: record.id };
    },
  }) as never,
);

let worker: WorkerHandle;
beforeAll(async () => {
  await createTestTables();
  worker = await startWorker({ mode: "in-process", concurrency: 8, leaseMs: 2000, pollMs: 50, maintenanceMs: 100, log: () => {} });
});
afterAll(async () => {
  await worker.stop(500);
});

const recordsOf = (ids: string[], extra: Record<string, unknown> = {}) => ids.map((id) => ({ id, text: `text of ${id}`, ...extra }));

async function runToEnd(input: Omit<CreateBatchInput, "source"> & { records: unknown[] }) {
  const { records, ...rest } = input;
  const created = await createBatch({ ...rest, source: { kind: "records", records, recordIdField: "id" } });
  const done = await waitFor(`batch ${created.id} to end`, async () => {
    const b = await getBatch(created.id);
    return ["completed", "failed", "cancelled"].includes(b.status) && b;
  });
  await expectCountersExact(created.id);
  return { created, done };
}

describe("reusing results (cache)", () => {
  it("reuses an earlier batch's results for the same records, runs the rest, and counts what it saved", async () => {
    const first = await runToEnd({ flow: "t-cost", parameters: { cost: 0.5 }, records: recordsOf(["a", "b", "c", "d", "e"]) });
    expect(first.done.costSpent).toBeCloseTo(2.5);

    const second = await runToEnd({ flow: "t-cost", parameters: { cost: 0.5 }, records: recordsOf(["a", "b", "c", "d", "e", "f", "g"]), cache: true });
    // five reused at creation, before any worker ran them
    expect(second.created.succeeded).toBe(5);
    expect({ jobs: second.created.cached, savedCost: second.created.cacheSavedCost }).toEqual({ jobs: 5, savedCost: 2.5 });
    expect(second.done.succeeded).toBe(7);
    expect(second.done.costSpent).toBeCloseTo(1.0); // only f and g ran
    const reused = await getJob(second.created.id, "c");
    expect(reused).toMatchObject({ status: "succeeded", cost: 0, attempts: 0, cachedFrom: first.created.id });
    expect(reused.result).toEqual({ id: "c", text: "text of c" });
    const ran = await getJob(second.created.id, "f");
    expect(ran).toMatchObject({ status: "succeeded", cost: 0.5, attempts: 1, cachedFrom: null });

    const json = toBatchJson(second.done);
    expect(json.reused).toEqual({ jobs: 5, saved_cost: 2.5 });
    expect(json.options.cache).toBe(true);
    expect(toJobJson(reused).cached_from).toBe(first.created.id);
  });

  it("the flow runs for a record whose data, or a batch whose parameters, differ", async () => {
    await runToEnd({ flow: "t-track", parameters: { delay_ms: 1 }, records: recordsOf(["p", "q"]) });
    const changedData = await runToEnd({ flow: "t-track", parameters: { delay_ms: 1 }, records: [...recordsOf(["p"]), { id: "q", text: "edited" }], cache: true });
    expect(changedData.created.cached).toBe(1);
    expect((await executions(changedData.created.id)).n).toBe(1);
    const changedParams = await runToEnd({ flow: "t-track", parameters: { delay_ms: 2 }, records: recordsOf(["p", "q"]), cache: true });
    expect(changedParams.created.cached).toBe(0);
    expect((await executions(changedParams.created.id)).n).toBe(2);
  });

  it("without cache nothing is reused; a batch whose every record is reused completes at creation", async () => {
    await runToEnd({ flow: "t-track", parameters: { delay_ms: 3 }, records: recordsOf(["x", "y"]) });
    const plain = await runToEnd({ flow: "t-track", parameters: { delay_ms: 3 }, records: recordsOf(["x", "y"]) });
    expect(plain.created.cached).toBe(0);
    expect((await executions(plain.created.id)).n).toBe(2);
    const cached = await createBatch({ flow: "t-track", parameters: { delay_ms: 3 }, source: { kind: "records", records: recordsOf(["x", "y"]), recordIdField: "id" }, cache: true });
    expect(cached.status).toBe("completed");
    expect(cached.completedAt).not.toBeNull();
    expect(cached).toMatchObject({ total: 2, succeeded: 2, pending: 0 });
    expect(cached.itemsPerSecond).toBeNull(); // nothing ran: no rate
    expect((await executions(cached.id)).n).toBe(0);
    await expectCountersExact(cached.id);
    // a reused result passes on its origin, and the cost it had there
    const again = await createBatch({ flow: "t-track", parameters: { delay_ms: 3 }, source: { kind: "records", records: recordsOf(["x"]), recordIdField: "id" }, cache: true });
    expect((await getJob(again.id, "x")).cachedFrom).toBe(plain.created.id);
  });

  it("cache_max_age: only results made at most that long ago are reused", async () => {
    const old = await runToEnd({ flow: "t-cost", parameters: { cost: 0.25 }, records: recordsOf(["m", "n"]) });
    await getPool().query(`UPDATE jobs SET finished_at = now() - interval '2 hours' WHERE batch_id = $1`, [old.created.id]);
    const fresh = await createBatch({ flow: "t-cost", parameters: { cost: 0.25 }, source: { kind: "records", records: recordsOf(["m", "n"]), recordIdField: "id" }, cache: true, cache_max_age: 3600 });
    expect(fresh.cached).toBe(0);
    const older = await createBatch({ flow: "t-cost", parameters: { cost: 0.25 }, source: { kind: "records", records: recordsOf(["m", "n"]), recordIdField: "id" }, cache: true, cache_max_age: 3 * 3600 });
    expect({ jobs: older.cached, savedCost: older.cacheSavedCost }).toEqual({ jobs: 2, savedCost: 0.5 });
  });

  it("results a person answered are reused only with cache_answers", async () => {
    const asked = await createBatch({ flow: "t-ask", source: { kind: "records", records: recordsOf(["h1", "h2"]), recordIdField: "id" }, interactive: true });
    const prompts = await waitFor("both prompts open", async () => {
      const page = await listPrompts({ batchId: asked.id, status: ["open"], limit: 10 });
      return page.items.length === 2 && page.items;
    });
    for (const p of prompts) await answerPrompt(p.id, "yes", "tester");
    await waitFor("answered batch to complete", async () => (await getBatch(asked.id)).status === "completed");

    const same = { flow: "t-ask", source: { kind: "records" as const, records: recordsOf(["h1", "h2"]), recordIdField: "id" }, interactive: true, cache: true };
    expect((await createBatch(same)).cached).toBe(0);
    const withAnswers = await createBatch({ ...same, cache_answers: true });
    expect(withAnswers.cached).toBe(2);
    expect((await getJob(withAnswers.id, "h1")).result).toEqual({ answer: "yes" });
  });

  it("a flow may reuse by default; a batch says cache: false to run it anyway", async () => {
    await runToEnd({ flow: "t-cached-by-default", records: recordsOf(["k"]) });
    const byDefault = await createBatch({ flow: "t-cached-by-default", source: { kind: "records", records: recordsOf(["k"]), recordIdField: "id" } });
    expect(byDefault.cache).toBe(true);
    expect(byDefault.cached).toBe(1);
    const optedOut = await createBatch({ flow: "t-cached-by-default", source: { kind: "records", records: recordsOf(["k"]), recordIdField: "id" }, cache: false });
    expect(optedOut.cached).toBe(0);
  });

  it("the API refuses a cache_max_age that is not a whole number of seconds from 1", () => {
    for (const bad of [0, -5, 1.5, "60"]) {
      const r = createBatchSchema.safeParse({ flow: "t-cost", records: ["a"], cache: true, cache_max_age: bad });
      expect(r.success).toBe(false);
      expect(r.error!.issues[0]!.path).toEqual(["cache_max_age"]);
    }
  });
});
