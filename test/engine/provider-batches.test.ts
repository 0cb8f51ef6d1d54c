// The engine's side of provider batch offload, on a real database against a local mock of both
// providers: jobs parked on a provider batch hold no slot and no lease and are counted as
// waiting_provider; the poller reads the provider batch back, stores each job's outcome by custom_id
// and wakes the jobs; cancel and pause reach the provider; an outcome that lands before its job parks
// wakes the job as it parks; nothing is lost or counted twice.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { cancelBatch, createBatch, pauseBatch } from "@/lib/engine";
import { claimJobs, type ClaimedJob } from "@/lib/engine/claim";
import { flushOutcomes, type Outcome } from "@/lib/engine/complete";
import { pollProviderBatches, providerStateOf, recordProviderBatch, recordSubmittedProviderBatch, reserveProviderBatch } from "@/lib/engine/provider-batches";
import { BATCH_CLIENTS, customIdOf } from "@/lib/flows/provider-batch";
import { runProviderBatchChunk } from "@/lib/flows/provider-batch/run";
import type { BatchProvider } from "@/lib/flows/provider-batch/types";
import { Chunk } from "@/lib/worker/chunk";
import { openaiSpecAt, startProviderBatchesMock, type ProviderBatchesMock } from "@/test/support/provider-batches-mock";
import { useTestDatabase } from "../helpers/db";
import { registerTestFlows } from "./fixtures/flows";
import { batchRow, expectCountersExact } from "./helpers";

process.env.BATCHBOARD_HTTP_ALLOWLIST = "127.0.0.1";
process.env.BATCHBOARD_PROVIDER_POLL_MS = "10";
process.env.BATCHBOARD_PROVIDER_POLL_MAX_MS = "10";
useTestDatabase();
registerTestFlows();

const OWNER = "provider-test-worker";
let mock: ProviderBatchesMock;
beforeAll(async () => {
  mock = await startProviderBatchesMock();
  await getPool().query(`INSERT INTO workers (id, host, pid, mode, lease_until) VALUES ($1, 'test', 0, 'standalone', now())`, [OWNER]);
});
afterAll(async () => {
  await mock.close();
});
afterEach(async () => {
  mock.pollsToEnd = 1;
  mock.createDelayMs = 0;
  mock.answerDelayMs = 0;
  delete process.env.BATCHBOARD_PROVIDER_SUBMIT_HOLD_MS;
  mock.answer = (line) => ({ status_code: 200, body: { answer: line.body.n } });
  const { rows } = await getPool().query<{ id: string }>(`SELECT id FROM batches WHERE status IN ('pending', 'running', 'paused')`);
  for (const r of rows) await cancelBatch(r.id);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A batch of n records, its jobs claimed by OWNER. */
async function claimedBatch(n: number): Promise<{ id: string; jobs: ClaimedJob[] }> {
  const batch = await createBatch({ flow: "t-echo", concurrency: n, source: { kind: "records", records: Array.from({ length: n }, (_, i) => ({ id: `r${i}`, n: i })), recordIdField: "id" } });
  const jobs = await claimJobs(OWNER, n, 60_000, 1);
  expect(jobs.map((j) => j.batch_id)).toEqual(Array(n).fill(batch.id));
  return { id: batch.id, jobs };
}

/** Sends the jobs to the mock provider as one provider batch and records it, as a flow in provider_batch mode does. */
async function send(batchId: string, jobs: ClaimedJob[], provider: BatchProvider = "openai") {
  const baseUrl = provider === "openai" ? mock.openaiUrl : mock.anthropicUrl;
  const conn = { baseUrl, apiKeyEnv: undefined, signal: new AbortController().signal, timeoutMs: 5000 };
  const endpoint = provider === "openai" ? "/v1/chat/completions" : "/v1/messages";
  const status = await BATCH_CLIENTS[provider].submit(conn, jobs.map((j) => ({ customId: customIdOf(j.id), body: { n: (j.data as { n: number }).n } })), { endpoint });
  return recordSubmittedProviderBatch(batchId, { provider, baseUrl, apiKeyEnv: undefined, endpoint }, status, jobs);
}

const park = (jobs: ClaimedJob[]): Outcome[] =>
  jobs.map((j) => ({ id: j.id, attempts: j.attempts, interruptions: j.interruptions, status: "waiting_provider", error: null, cost: 0, logs: null, delayMs: 0, durationMs: 5, reserved: false }));

/** Polls until nothing is due for a while or `until` holds. */
async function pollUntil(until: () => Promise<boolean>, rounds = 50) {
  for (let i = 0; i < rounds; i++) {
    await pollProviderBatches();
    if (await until()) return;
    await sleep(15);
  }
  throw new Error("the provider batch never got there");
}

describe("a job parked on a provider batch", () => {
  it("holds no slot and no lease, and comes back runnable with its own outcome once the provider batch ended", async () => {
    mock.answer = (line) => (line.body.n === 1 ? { status_code: 400, body: { error: { message: "too long" } } } : { status_code: 200, body: { answer: line.body.n } });
    const { id, jobs } = await claimedBatch(3);
    const pb = await send(id, jobs);
    expect((await flushOutcomes(OWNER, park(jobs))).applied).toBe(3);

    const parked = await batchRow(id);
    expect(parked).toMatchObject({ running: 0, reserved: 0, pending: 0, waiting_provider: 3 });
    const leases = await getPool().query(`SELECT status, lease_owner, attempts FROM jobs WHERE batch_id = $1`, [id]);
    for (const j of leases.rows) expect(j).toEqual({ status: "waiting_provider", lease_owner: null, attempts: 0 });
    await expectCountersExact(id);
    // a run of the same attempt meanwhile (a lapsed lease) must not send it again
    const asked = jobs.map((j) => ({ id: j.id, attempts: j.attempts }));
    expect([...(await providerStateOf(asked)).values()]).toEqual(["waiting", "waiting", "waiting"]);

    await pollUntil(async () => (await batchRow(id)).waiting_provider === 0);
    expect(await batchRow(id)).toMatchObject({ pending: 3, waiting_provider: 0 });
    await expectCountersExact(id);
    const pbRow = (await getPool().query(`SELECT ended_at, provider_status, succeeded, failed FROM provider_batches WHERE id = $1`, [pb])).rows[0];
    expect(pbRow).toMatchObject({ provider_status: "completed", succeeded: 2, failed: 1 });
    expect(pbRow.ended_at).not.toBeNull();

    // claimed again: the same attempt number, and each job finds its own outcome
    const again = await claimJobs(OWNER, 3, 60_000, 1);
    expect(again.map((j) => j.attempts).sort()).toEqual(jobs.map((j) => j.attempts).sort());
    const states = await providerStateOf(again.map((j) => ({ id: j.id, attempts: j.attempts })));
    for (const j of again) {
      const n = (j.data as { n: number }).n;
      const state = states.get(j.id);
      if (n === 1) expect(state).toMatchObject({ outcome: { ok: false, code: "http_400", retryable: false } });
      else expect(state).toMatchObject({ outcome: { ok: true, response: { status_code: 200, body: { answer: n } } } });
    }
    // a later attempt (after a retry) has nothing stored: it is sent again
    expect((await providerStateOf([{ id: again[0]!.id, attempts: again[0]!.attempts + 1 }])).size).toBe(0);
  });

  it("an outcome stored before its job parked wakes the job as it parks", async () => {
    mock.pollsToEnd = 0;
    const { id, jobs } = await claimedBatch(2);
    await send(id, jobs, "anthropic");
    mock.answer = () => ({ status_code: 200, body: { id: "msg_1", type: "message", content: [] } });
    await pollUntil(async () => (await getPool().query(`SELECT 1 FROM provider_batches WHERE batch_id = $1 AND ended_at IS NOT NULL`, [id])).rowCount === 1);
    // the jobs were still running when the outcomes landed: nothing woke them yet
    expect(await batchRow(id)).toMatchObject({ running: 2, waiting_provider: 0 });
    await flushOutcomes(OWNER, park(jobs));
    expect(await batchRow(id)).toMatchObject({ running: 0, waiting_provider: 0, pending: 2 });
    await expectCountersExact(id);
  });

  it("a request the provider returned nothing readable for gets its own clear, retryable error", async () => {
    mock.pollsToEnd = 0;
    mock.answer = (line) => (line.body.n === 0 ? "garbage" : line.body.n === 1 ? "omit" : { status_code: 200, body: {} });
    const { id, jobs } = await claimedBatch(3);
    await send(id, jobs);
    await flushOutcomes(OWNER, park(jobs));
    await pollUntil(async () => (await batchRow(id)).waiting_provider === 0);
    const byN = new Map(jobs.map((j) => [(j.data as { n: number }).n, j]));
    const states = await providerStateOf(jobs.map((j) => ({ id: j.id, attempts: j.attempts })));
    expect(states.get(byN.get(0)!.id)).toMatchObject({ outcome: { ok: false, code: "invalid_provider_output", retryable: true, message: expect.stringMatching(/could not be read \(line [12] of the output file: not JSON/) } });
    expect(states.get(byN.get(1)!.id)).toMatchObject({ outcome: { ok: false, code: "invalid_provider_output", retryable: true } });
    expect(states.get(byN.get(2)!.id)).toMatchObject({ outcome: { ok: true } });
    const row = (await getPool().query(`SELECT error FROM provider_batches WHERE batch_id = $1`, [id])).rows[0];
    expect(row.error).toBe("1 line(s) of the provider's output could not be read");
  });

  it("cancelling the batch cancels its provider batch at the provider, and nothing is woken", async () => {
    mock.pollsToEnd = Infinity;
    const { id, jobs } = await claimedBatch(2);
    const pb = await send(id, jobs);
    await flushOutcomes(OWNER, park(jobs));
    await cancelBatch(id);
    expect(await batchRow(id)).toMatchObject({ status: "cancelled", cancelled: 2, waiting_provider: 0 });
    await pollUntil(async () => (await getPool().query(`SELECT 1 FROM provider_batches WHERE id = $1 AND ended_at IS NOT NULL`, [pb])).rowCount === 1);
    expect(mock.seen.some((s) => s.method === "POST" && s.path.endsWith("/cancel"))).toBe(true);
    expect((await getPool().query(`SELECT cancel_requested_at FROM provider_batches WHERE id = $1`, [pb])).rows[0].cancel_requested_at).not.toBeNull();
    expect(await batchRow(id)).toMatchObject({ status: "cancelled", cancelled: 2, pending: 0 });
    await expectCountersExact(id);
  });

  it("pausing the batch cancels its provider batch and hands the unsent requests back, their attempt not counted", async () => {
    mock.pollsToEnd = Infinity;
    const { id, jobs } = await claimedBatch(2);
    await send(id, jobs);
    await flushOutcomes(OWNER, park(jobs));
    await pauseBatch(id);
    await pollUntil(async () => (await batchRow(id)).waiting_provider === 0);
    expect(await batchRow(id)).toMatchObject({ status: "paused", pending: 2, waiting_provider: 0 });
    await expectCountersExact(id);
    // released: nothing stored for the attempt, so the job is sent again when the batch resumes
    expect((await providerStateOf(jobs.map((j) => ({ id: j.id, attempts: j.attempts })))).size).toBe(0);
    const attempts = await getPool().query(`SELECT attempts FROM jobs WHERE batch_id = $1`, [id]);
    expect(attempts.rows.map((r) => r.attempts)).toEqual([0, 0]);
  });

  it("an expired provider batch returns its unfinished requests as retryable failures, and keeps what it answered", async () => {
    mock.pollsToEnd = Infinity;
    const { id, jobs } = await claimedBatch(2);
    const pb = await send(id, jobs);
    await flushOutcomes(OWNER, park(jobs));
    const providerId = (await getPool().query(`SELECT provider_batch_id FROM provider_batches WHERE id = $1`, [pb])).rows[0].provider_batch_id;
    mock.expire(providerId, 1);
    await pollUntil(async () => (await batchRow(id)).waiting_provider === 0);
    const states = await providerStateOf(jobs.map((j) => ({ id: j.id, attempts: j.attempts })));
    const outcomes = jobs.map((j) => (states.get(j.id) as { outcome: { ok: boolean; code?: string } }).outcome);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    expect(outcomes.filter((o) => !o.ok)).toEqual([expect.objectContaining({ code: "provider_batch_expired", retryable: true })]);
  });
});

describe("a submission whose submitter died between the provider's create and recording its id", () => {
  /** What a worker that dies in that window leaves behind: the submission recorded, the batch at the provider, its id nowhere. */
  async function orphan(provider: BatchProvider, created: boolean) {
    const { id, jobs } = await claimedBatch(2);
    const baseUrl = provider === "openai" ? mock.openaiUrl : mock.anthropicUrl;
    const endpoint = provider === "openai" ? "/v1/chat/completions" : "/v1/messages";
    const target = { provider, baseUrl, apiKeyEnv: undefined, endpoint };
    // hold 0: as if the submitter's hold (and the jobs' lease) lapsed
    const submission = await reserveProviderBatch(id, target, jobs, 0);
    const before = mock.batches.size;
    if (created) {
      const conn = { baseUrl, apiKeyEnv: undefined, signal: new AbortController().signal, timeoutMs: 5000 };
      const requests = jobs.map((j) => ({ customId: customIdOf(j.id), body: { n: (j.data as { n: number }).n } }));
      await BATCH_CLIENTS[provider].submit(conn, requests, { endpoint, metadata: { batchboard_batch: id, batchboard_submission: submission } });
      expect(mock.batches.size).toBe(before + 1);
    }
    // the lapsed lease's re-run finds the attempt held: the jobs park instead of going out again
    expect([...(await providerStateOf(jobs.map((j) => ({ id: j.id, attempts: j.attempts })))).values()]).toEqual(["waiting", "waiting"]);
    await flushOutcomes(OWNER, park(jobs));
    return { id, jobs, submission, before };
  }

  it("OpenAI-compatible: is found at the provider by its metadata and adopted; nothing is sent, billed or read twice", async () => {
    mock.pollsToEnd = 1;
    // other batches at the provider, newer and older, some with metadata of their own: a list of several pages
    const conn = { baseUrl: mock.openaiUrl, apiKeyEnv: undefined, signal: new AbortController().signal, timeoutMs: 5000 };
    const { id, jobs, submission, before } = await orphan("openai", true);
    for (let i = 0; i < 120; i++) {
      await BATCH_CLIENTS.openai.submit(conn, [{ customId: `other-${i}`, body: { n: 99 } }], { endpoint: "/v1/chat/completions", metadata: { batchboard_batch: "batch_other", batchboard_submission: String(i) } });
    }
    const created = [...mock.batches.values()].slice(before)[0]!;
    await pollUntil(async () => (await batchRow(id)).waiting_provider === 0);
    const row = (await getPool().query(`SELECT provider_batch_id, provider_status, ended_at, error FROM provider_batches WHERE id = $1`, [submission])).rows[0];
    expect(row).toMatchObject({ provider_batch_id: created.id, provider_status: "completed", error: null });
    expect(mock.seen.some((s) => s.method === "GET" && s.path === "/openai/v1/batches")).toBe(true);
    // one provider batch holds these jobs: the orphan, adopted
    expect([...mock.batches.values()].filter((b) => b.requests.some((r) => jobs.some((j) => r.custom_id === customIdOf(j.id))))).toHaveLength(1);
    const again = await claimJobs(OWNER, 2, 60_000, 1);
    const states = await providerStateOf(again.map((j) => ({ id: j.id, attempts: j.attempts })));
    for (const j of again) expect(states.get(j.id)).toMatchObject({ outcome: { ok: true, response: { status_code: 200 } } });
    await expectCountersExact(id);
  });

  it("not at the provider (the submitter died before its create arrived): the records go again, no attempt counted", async () => {
    const { id, submission } = await orphan("openai", false);
    await pollUntil(async () => (await batchRow(id)).waiting_provider === 0);
    const row = (await getPool().query(`SELECT provider_batch_id, provider_status, ended_at, error FROM provider_batches WHERE id = $1`, [submission])).rows[0];
    expect(row).toMatchObject({ provider_batch_id: null, provider_status: "not_submitted", error: expect.stringContaining("has no batch naming it") });
    const again = await claimJobs(OWNER, 2, 60_000, 1);
    expect(again.every((j) => j.attempts === 1)).toBe(true);
    // released: nothing stored for the attempt, so it is sent (once) again
    expect((await providerStateOf(again.map((j) => ({ id: j.id, attempts: j.attempts })))).size).toBe(0);
    await expectCountersExact(id);
  });

  it("Anthropic (no metadata to look for): the records go again, as documented", async () => {
    const listsBefore = mock.seen.filter((s) => s.method === "GET" && s.path === "/anthropic/v1/messages/batches").length;
    const { id, submission } = await orphan("anthropic", true);
    await pollUntil(async () => (await batchRow(id)).waiting_provider === 0);
    const row = (await getPool().query(`SELECT provider_batch_id, provider_status, error FROM provider_batches WHERE id = $1`, [submission])).rows[0];
    expect(row).toMatchObject({ provider_batch_id: null, provider_status: "not_submitted", error: expect.stringContaining("cannot be asked") });
    expect(mock.seen.filter((s) => s.method === "GET" && s.path === "/anthropic/v1/messages/batches").length).toBe(listsBefore);
    const again = await claimJobs(OWNER, 2, 60_000, 1);
    expect((await providerStateOf(again.map((j) => ({ id: j.id, attempts: j.attempts })))).size).toBe(0);
  });
});

describe("a submitter that outlives its hold while another worker's recovery runs", () => {
  /** the mock's provider batches holding any of these jobs' requests */
  const holding = (jobs: ClaimedJob[]) => [...mock.batches.values()].filter((b) => b.requests.some((r) => jobs.some((j) => r.custom_id === customIdOf(j.id))));

  it("a submission slower than its hold is held while its submitter runs: sent once, adopted by nobody, every record's outcome once", async () => {
    // the hold is a tenth of what the provider takes to create the batch; a recovery runs all along
    process.env.BATCHBOARD_PROVIDER_SUBMIT_HOLD_MS = "100";
    mock.createDelayMs = 1000;
    const { id, jobs } = await claimedBatch(3);
    const chunk = new Chunk(jobs, OWNER);
    let done = false;
    const call = runProviderBatchChunk(chunk.records, chunk, openaiSpecAt(mock)).finally(() => (done = true));
    let polls = 0;
    while (!done) {
      await pollProviderBatches();
      polls++;
      await sleep(20);
    }
    expect(polls).toBeGreaterThan(20);
    expect(await call).toEqual(jobs.map(() => ({ waitingProvider: true })));
    await flushOutcomes(OWNER, park(jobs));
    // one provider batch holds the records, recorded by its submitter, never cancelled
    const sent = holding(jobs);
    expect(sent.map((b) => b.state)).toEqual(["in_progress"]);
    const { rows } = await getPool().query(`SELECT provider_batch_id, error FROM provider_batches WHERE batch_id = $1`, [id]);
    expect(rows).toEqual([{ provider_batch_id: sent[0]!.id, error: null }]);
    await pollUntil(async () => (await batchRow(id)).waiting_provider === 0);
    const again = await claimJobs(OWNER, 3, 60_000, 1);
    const states = await providerStateOf(again.map((j) => ({ id: j.id, attempts: j.attempts })));
    expect(again.map((j) => states.get(j.id))).toEqual(jobs.map((j) => ({ outcome: expect.objectContaining({ ok: true, response: expect.objectContaining({ body: { answer: (j.data as { n: number }).n } }) }) })));
    expect(holding(jobs)).toHaveLength(1);
    await expectCountersExact(id);
  });

  it("a submitter whose hold lapsed all the same (a stall) and whose batch a recovery adopted records it: the batch stands, nothing is cancelled or sent again", async () => {
    const { id, jobs } = await claimedBatch(2);
    const target = { provider: "openai" as const, baseUrl: mock.openaiUrl, apiKeyEnv: undefined, endpoint: "/v1/chat/completions" };
    // hold 0: the submitter stalled past its hold between the provider's create and its record
    const submission = await reserveProviderBatch(id, target, jobs, 0);
    const conn = { baseUrl: mock.openaiUrl, apiKeyEnv: undefined, signal: new AbortController().signal, timeoutMs: 5000 };
    const requests = jobs.map((j) => ({ customId: customIdOf(j.id), body: { n: (j.data as { n: number }).n } }));
    const status = await BATCH_CLIENTS.openai.submit(conn, requests, { endpoint: target.endpoint, metadata: { batchboard_batch: id, batchboard_submission: submission } });
    // another worker's recovery finds it at the provider and adopts it
    await pollProviderBatches();
    expect((await getPool().query(`SELECT provider_batch_id FROM provider_batches WHERE id = $1`, [submission])).rows[0]).toEqual({ provider_batch_id: status.id });
    // the submitter comes back and records what the provider answered it: the same batch, which stands
    expect(await recordProviderBatch(submission, status)).toBe(true);
    await flushOutcomes(OWNER, park(jobs));
    await pollUntil(async () => (await batchRow(id)).waiting_provider === 0);
    expect(holding(jobs).map((b) => b.state)).toEqual(["completed"]);
    const again = await claimJobs(OWNER, 2, 60_000, 1);
    const states = await providerStateOf(again.map((j) => ({ id: j.id, attempts: j.attempts })));
    for (const j of again) expect(states.get(j.id)).toMatchObject({ outcome: { ok: true } });
    await expectCountersExact(id);
  });
});
