// One attempt on its own (lib/worker/attempt.ts), on jobs claimed from a real database and the batch
// settings read from it: a flow that ignores its signal still ends at its timeout or an abort; a lost
// job writes nothing, a shutdown hands the job back; a retryable failure waits its backoff (counted
// from the last manual retry, or the flow's retry-after) until max_retries, then fails; ctx.signal
// read after an abort is already aborted; ctx.ask() parks an interactive job on an open prompt.
import { z } from "zod";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { getPool } from "@/lib/db/client";
import { createBatch, type CreateBatchInput } from "@/lib/engine";
import { claimJobs, type ClaimedJob } from "@/lib/engine/claim";
import type { Outcome } from "@/lib/engine/complete";
import { registerFlow } from "@/lib/flows/registry";
import { defineFlow } from "@/lib/flows/types";
import { AbortReason, Attempt, runToOutcome } from "@/lib/worker/attempt";
import { BatchSettingsCache } from "@/lib/worker/batch-settings";
import { useTestDatabase } from "../helpers/db";
import { registerTestFlows } from "../engine/fixtures/flows";

useTestDatabase();
registerTestFlows();
registerFlow(
  defineFlow({
    name: "t-attempt-ask",
    description: "asks one question and returns the answer",
    parameters: z.object({ default: z.string().optional() }),
    async run(_record, ctx) {
      return { answer: await ctx.ask({ key: "ok?", question: "is it ok?", input: { type: "text" }, default: ctx.params.default }) };
    },
  }),
);

const WORKER = "attempt-test";

beforeAll(async () => {
  await getPool().query(`INSERT INTO workers (id, host, pid, mode, lease_until) VALUES ($1, 'test', 0, 'standalone', now() + interval '1 hour')`, [WORKER]);
});
afterEach(() => vi.restoreAllMocks());

/** A batch of one record, and its job as a worker claims it. */
async function claimOne(flow: string, parameters: Record<string, unknown>, options: Partial<CreateBatchInput> = {}): Promise<ClaimedJob> {
  const batch = await createBatch({ flow, parameters, source: { kind: "records", records: [{ id: "r0" }], recordIdField: "id" }, ...options });
  const claimed = await claimJobs(WORKER, 1, 60_000);
  expect(claimed.map((j) => j.batch_id)).toEqual([batch.id]);
  return claimed[0]!;
}

/** The attempt's outcome, or "still running" if it has not settled within `ms`. */
function within(p: Promise<Outcome | null>, ms: number): Promise<Outcome | null | "still running"> {
  return Promise.race([p, new Promise<"still running">((r) => setTimeout(() => r("still running"), ms))]);
}

describe("an attempt's end", () => {
  it("a flow that ignores its signal ends at the batch's timeout, as a retryable timeout failure", async () => {
    const a = new Attempt(await claimOne("t-hang", { ignore_signal: true }, { timeout_ms: 100, max_retries: 3, retry_backoff_ms: 1000 }));
    const t0 = Date.now();
    const outcome = await within(runToOutcome(a, new BatchSettingsCache()), 5000);
    expect(outcome).toMatchObject({ status: "pending", error: { code: "timeout", message: "timed out after 100 ms", retryable: true } });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(95);
    expect(a.reason?.kind).toBe("timeout");
  });

  it("a lost job (cancelled, stopped, lease gone) ends at once, even if its flow ignores the signal, and writes nothing", async () => {
    const a = new Attempt(await claimOne("t-hang", { ignore_signal: true }));
    const running = runToOutcome(a, new BatchSettingsCache());
    await new Promise((r) => setTimeout(r, 50));
    a.abort(new AbortReason("lost", "the job was cancelled"));
    expect(await within(running, 2000)).toBeNull();
  });

  it("a shutdown hands the job back: pending, released, its attempt not counted against it", async () => {
    const job = await claimOne("t-hang", {});
    const a = new Attempt(job);
    const running = runToOutcome(a, new BatchSettingsCache());
    await new Promise((r) => setTimeout(r, 50));
    a.abort(new AbortReason("shutdown", "the worker is stopping"));
    expect(await within(running, 2000)).toMatchObject({ id: job.id, status: "pending", release: true, error: null, attempts: job.attempts });
  });

  it("ctx.signal read after the abort is already aborted, with the reason", async () => {
    const a = new Attempt(await claimOne("t-echo", {}));
    const reason = new AbortReason("timeout", "late");
    a.abort(reason);
    expect(a.signal.aborted).toBe(true);
    expect(a.signal.reason).toBe(reason);
  });
});

describe("retries and their backoff", () => {
  it("a retryable failure goes back pending after the batch's backoff, doubled per attempt, until max_retries; then it fails", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0); // equal jitter's random half at 0: exactly half the doubled base
    const job = await claimOne("t-fail", {}, { max_retries: 2, retry_backoff_ms: 1000 });
    const settings = new BatchSettingsCache();
    expect(await runToOutcome(new Attempt(job), settings)).toMatchObject({ status: "pending", delayMs: 500, error: { code: "boom", retryable: true } });
    expect(await runToOutcome(new Attempt({ ...job, attempts: 2 }), settings)).toMatchObject({ status: "pending", delayMs: 1000 });
    expect(await runToOutcome(new Attempt({ ...job, attempts: 3 }), settings)).toMatchObject({ status: "failed", error: { code: "boom", retryable: true } });
  });

  it("a manual retry gives max_retries a fresh allowance: attempts count from the retry", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0);
    const job = await claimOne("t-fail", {}, { max_retries: 2, retry_backoff_ms: 1000 });
    const outcome = await runToOutcome(new Attempt({ ...job, attempts: 4, retry_base: 3 }), new BatchSettingsCache());
    expect(outcome).toMatchObject({ status: "pending", delayMs: 500 });
  });

  it("the flow's retry-after wins over the backoff; a failure that is not retryable fails at once", async () => {
    const job = await claimOne("t-fail", { retry_after_ms: 1234 }, { max_retries: 2, retry_backoff_ms: 1000 });
    expect(await runToOutcome(new Attempt(job), new BatchSettingsCache())).toMatchObject({ status: "pending", delayMs: 1234 });
    const fatal = await claimOne("t-fail", { retryable: false }, { max_retries: 2 });
    expect(await runToOutcome(new Attempt(fatal), new BatchSettingsCache())).toMatchObject({ status: "failed", error: { code: "boom", retryable: false } });
  });
});

describe("ctx.ask()", () => {
  it("in an interactive batch, opens the prompt and parks the job on it", async () => {
    const job = await claimOne("t-attempt-ask", {}, { interactive: true });
    expect(await runToOutcome(new Attempt(job), new BatchSettingsCache())).toMatchObject({ id: job.id, status: "waiting_input", error: null });
    const { rows } = await getPool().query(`SELECT key, question, status FROM prompts WHERE job_id = $1`, [job.id]);
    expect(rows).toEqual([{ key: "ok?", question: "is it ok?", status: "open" }]);
  });

  it("in a batch that is not interactive, takes the default, and without one fails input_required", async () => {
    const withDefault = await claimOne("t-attempt-ask", { default: "yes" });
    expect(await runToOutcome(new Attempt(withDefault), new BatchSettingsCache())).toMatchObject({ status: "succeeded", result: JSON.stringify({ answer: "yes" }) });
    const without = await claimOne("t-attempt-ask", {});
    expect(await runToOutcome(new Attempt(without), new BatchSettingsCache())).toMatchObject({ status: "failed", error: { code: "input_required", retryable: false } });
    expect((await getPool().query(`SELECT count(*)::int AS n FROM prompts WHERE job_id = ANY($1)`, [[withDefault.id, without.id]])).rows[0].n).toBe(0);
  });
});
