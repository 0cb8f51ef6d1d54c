// Built-in flows run by the real engine and worker on a real database: the demo path a new user
// takes (classify over demo-reviews with no dataset named), a human review answered through the
// engine, and chaos' transient failures recovered by retries.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDemoDataset } from "@/lib/datasets";
import { AppError } from "@/lib/errors";
import { answerPrompt, createBatch, getBatch, listPrompts } from "@/lib/engine";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { chaosRoll } from "@/lib/flows/chaos";
import { allResults as results } from "@/test/support/results";
import { waitFor as waitUntilDone } from "@/test/support/wait";
import { useTestDatabase } from "../helpers/db";

const waitFor = <T,>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 30_000) => waitUntilDone(what, fn, ms);

async function finished(batchId: string) {
  return waitFor(`batch ${batchId} to finish`, async () => {
    const b = await getBatch(batchId);
    return ["completed", "failed", "cancelled"].includes(b.status) ? b : null;
  }, 60_000);
}

describe("built-in flows on the engine", () => {
  useTestDatabase();
  let worker: WorkerHandle;

  beforeAll(async () => {
    await ensureDemoDataset();
    worker = await startWorker({ mode: "in-process", concurrency: 16, pollMs: 50, maintenanceMs: 200 });
  });
  afterAll(async () => {
    await worker?.stop(1000);
  });

  it("classify runs over the demo dataset when a batch names no source", async () => {
    const batch = await createBatch({ flow: "classify", source: { kind: "flow_default" }, max_records: 300 });
    const done = await finished(batch.id);
    expect(done.status).toBe("completed");
    expect(done.succeeded).toBe(300);
    const rows = await results(batch.id);
    const labels = new Set(rows.map((r) => (r.result as { label: string }).label));
    expect(labels).toEqual(new Set(["positive", "negative", "neutral"]));
  });

  it("review parks on a prompt and stores the human's label", async () => {
    const batch = await createBatch({
      flow: "review",
      parameters: { question: "Tone?", options: ["positive", "negative", "neutral"] },
      source: { kind: "flow_default" },
      max_records: 2,
      interactive: true,
    });
    const prompts = await waitFor("two open prompts", async () => {
      const page = await listPrompts({ status: ["open"], batchId: batch.id, limit: 10 });
      return page.items.length === 2 ? page.items : null;
    });
    expect(prompts[0]).toMatchObject({ question: "Tone?", input: { type: "choice" } });
    await answerPrompt(prompts[0]!.id, "negative", "tester");
    await answerPrompt(prompts[1]!.id, "neutral", "tester");
    const done = await finished(batch.id);
    expect(done.succeeded).toBe(2);
    const rows = (await results(batch.id)).map((r) => r.result as { label: string; answered_by: string | null; answered_at: string | null });
    expect(rows.map((r) => r.label).sort()).toEqual(["negative", "neutral"]);
    for (const r of rows) {
      expect(r.answered_by).toBe("tester");
      expect(Number.isNaN(Date.parse(r.answered_at ?? ""))).toBe(false);
    }
  });

  it("review without interaction or default fails every record with input_required", async () => {
    const batch = await createBatch({ flow: "review", source: { kind: "flow_default" }, max_records: 3 });
    const done = await finished(batch.id);
    expect(done.failed).toBe(3);
    expect((await results(batch.id)).every((r) => r.error?.code === "input_required")).toBe(true);
  });

  it("chaos' transient failures are recovered by one retry, and its cost is counted", async () => {
    const batch = await createBatch({
      flow: "chaos",
      parameters: { failure_rate: 0.5, transient: true, cost_per_item: 0.01 },
      source: { kind: "records", records: Array.from({ length: 40 }, (_, i) => ({ id: `c${i}` })), recordIdField: "id" },
      max_retries: 1,
      retry_backoff_ms: 1,
    });
    const done = await finished(batch.id);
    expect(done.succeeded).toBe(40);
    // one charge per attempt: 40 first attempts plus a retry for each record that failed the first
    const failedFirst = Array.from({ length: 40 }, (_, i) => chaosRoll("chaos", `c${i}`)).filter((r) => r < 0.5).length;
    expect(failedFirst).toBeGreaterThan(0);
    expect(done.costSpent).toBeCloseTo(0.01 * (40 + failedFirst), 9);
  });

  it("refuses the command flow at batch creation while it is disabled", async () => {
    delete process.env.BATCHBOARD_ENABLE_COMMAND_FLOW;
    const err = await createBatch({ flow: "command", parameters: { command: "true" }, source: { kind: "records", records: ["x"], recordIdField: "id" } }).then(
      () => null,
      (e: unknown) => e as AppError,
    );
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: "validation_failed" });
    expect(JSON.stringify(err?.details)).toContain("BATCHBOARD_ENABLE_COMMAND_FLOW");
  });
});
