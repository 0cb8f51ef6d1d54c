// A worker whose own lease on its records lapses while it submits them as a provider batch (a starved
// heartbeat, a long upload): the lease sweep returns the records to pending and another worker claims
// them. Whatever the order, at most one provider batch is ever live at the provider for a record, and
// each record's result is stored once. The lapse is forced in SQL while the mock provider on
// 127.0.0.1 holds the first submitter's request, so every interleaving below is exact.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { cancelBatch, createBatch, getBatch } from "@/lib/engine";
import { claimJobs, type ClaimedJob } from "@/lib/engine/claim";
import { flushOutcomes, type Outcome } from "@/lib/engine/complete";
import { expireLeases } from "@/lib/engine/maintenance";
import { pollProviderBatches, providerStateOf } from "@/lib/engine/provider-batches";
import { customIdOf } from "@/lib/flows/provider-batch";
import { runProviderBatchChunk, type ProviderBatchSpec } from "@/lib/flows/provider-batch/run";
import { AbortReason } from "@/lib/worker/attempt";
import { BatchSettingsCache } from "@/lib/worker/batch-settings";
import { Chunk, runChunkToOutcomes } from "@/lib/worker/chunk";
import { openaiSpecAt, startProviderBatchesMock, type ProviderBatchesMock } from "@/test/support/provider-batches-mock";
import { useTestDatabase } from "../helpers/db";
import { registerTestFlows } from "./fixtures/flows";
import { batchRow, expectCountersExact, lapseLeasesOf, trackWorkerProcesses, waitFor } from "./helpers";

const env = {
  BATCHBOARD_HTTP_ALLOWLIST: "127.0.0.1",
  BATCHBOARD_FLOW_SECRETS: "BATCH_PROVIDER_KEY",
  BATCH_PROVIDER_KEY: "sk-lapse-test",
  BATCHBOARD_PROVIDER_POLL_MS: "20",
  BATCHBOARD_PROVIDER_POLL_MAX_MS: "50",
  BATCHBOARD_PROVIDER_SUBMIT_HOLD_MS: "600",
};
Object.assign(process.env, env);
useTestDatabase();
registerTestFlows();
const spawnWorker = trackWorkerProcesses();

const W1 = "lapse-worker-1";
const W2 = "lapse-worker-2";
let mock: ProviderBatchesMock;
beforeAll(async () => {
  mock = await startProviderBatchesMock();
  mock.answer = (line) => ({ status_code: 200, body: { answer: line.body.n } });
  for (const id of [W1, W2]) {
    await getPool().query(`INSERT INTO workers (id, host, pid, mode, lease_until) VALUES ($1, 'test', 0, 'standalone', now() + interval '1 hour')`, [id]);
  }
});
afterAll(async () => {
  await mock.close();
});
afterEach(async () => {
  mock.hold = null;
  mock.pollsToEnd = 1;
  mock.answer = (line) => ({ status_code: 200, body: { answer: line.body.n } });
  await getPool().query(`UPDATE workers SET lease_until = now() + interval '1 hour' WHERE id = ANY($1)`, [[W1, W2]]);
  const { rows } = await getPool().query<{ id: string }>(`SELECT id FROM batches WHERE status IN ('pending', 'running', 'paused')`);
  for (const r of rows) await cancelBatch(r.id);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Holds the first POST /batches at the mock: `arrived` once it is there; `release()` lets it through. */
function holdFirstCreate() {
  const arrived = deferred();
  const gate = deferred();
  let first = true;
  mock.hold = (_method, path) => {
    if (path !== "/openai/v1/batches" || !first) return null;
    first = false;
    arrived.resolve();
    return gate.promise;
  };
  return { arrived: arrived.promise, release: gate.resolve };
}

/** What a starved heartbeat lets happen: the worker's own lease and its jobs' leases run out, then another worker's sweep returns the jobs to pending. */
async function lapse(worker: string, sweep: boolean): Promise<void> {
  await lapseLeasesOf(worker);
  if (sweep) expect(await expireLeases(1000, null)).toBeGreaterThan(0);
}

/** The mock's provider batches holding any of these custom ids. */
const holding = (customIds: string[]) => [...mock.batches.values()].filter((b) => b.requests.some((r) => customIds.includes(r.custom_id)));
const overlapsOf = (customIds: string[]) => customIds.filter((c) => mock.overlaps.has(c));

const park = (jobs: ClaimedJob[]): Outcome[] =>
  jobs.map((j) => ({ id: j.id, attempts: j.attempts, interruptions: j.interruptions, status: "waiting_provider", error: null, cost: 0, logs: null, delayMs: 0, durationMs: 5, reserved: false }));

describe("a submitter that loses its records to another worker before it records the submission", () => {

  it("records lost before the submission was reserved: the late submitter sends nothing, the new owner's provider batch is the only one", async () => {
    const batch = await createBatch({ flow: "t-echo", concurrency: 3, source: { kind: "records", records: Array.from({ length: 3 }, (_, i) => ({ id: `r${i}`, n: i })), recordIdField: "id" } });
    const jobs = await claimJobs(W1, 3, 60_000, 1);
    expect(jobs.map((j) => j.batch_id)).toEqual(Array(3).fill(batch.id));
    const customIds = jobs.map((j) => customIdOf(j.id));

    // W1 read that nothing was sent for these attempts, and is slow to build its requests
    const building = deferred();
    const gate = deferred();
    const slow: ProviderBatchSpec = { ...openaiSpecAt(mock), body: async (r) => (building.resolve(), await gate.promise, { n: (r.data as { n: number }).n }) };
    const c1 = new Chunk(jobs, W1);
    const late = runProviderBatchChunk(c1.records, c1, slow).then(
      (v) => ({ ok: v }),
      (err: unknown) => ({ err }),
    );
    await building.promise;

    // meanwhile its lease lapsed; W2 claims the records, sends them and parks them
    await lapse(W1, true);
    const again = await claimJobs(W2, 3, 60_000, 1);
    expect(again.map((j) => j.id).sort()).toEqual(jobs.map((j) => j.id).sort());
    const c2 = new Chunk(again, W2);
    expect(await runProviderBatchChunk(c2.records, c2, openaiSpecAt(mock))).toEqual(again.map(() => ({ waitingProvider: true })));
    expect((await flushOutcomes(W2, park(again))).applied).toBe(3);
    expect(holding(customIds)).toHaveLength(1);

    // W1 comes back: the records are no longer its own, it must not send them
    gate.resolve();
    const w1 = await late;
    expect(w1).toEqual({ err: expect.objectContaining({ kind: "lost" }) });
    expect(overlapsOf(customIds)).toEqual([]);
    expect(holding(customIds)).toHaveLength(1);

    // the records finish on W2's provider batch, each with its own answer
    for (let i = 0; i < 50 && Number((await batchRow(batch.id)).waiting_provider) > 0; i++) {
      await pollProviderBatches();
      await sleep(15);
    }
    const woken = await claimJobs(W2, 3, 60_000, 1);
    const states = await providerStateOf(woken.map((j) => ({ id: j.id, attempts: j.attempts })));
    for (const j of woken) expect(states.get(j.id)).toMatchObject({ outcome: { ok: true, response: { body: { answer: (j.data as { n: number }).n } } } });
    const requests = await getPool().query(`SELECT r.provider_batch_id, pb.provider_batch_id AS at_provider FROM provider_requests r JOIN provider_batches pb ON pb.id = r.provider_batch_id WHERE r.job_id = ANY($1)`, [jobs.map((j) => j.id)]);
    expect(new Set(requests.rows.map((r) => r.at_provider))).toEqual(new Set([holding(customIds)[0]!.id]));
    await expectCountersExact(batch.id);
  });

  it("records taken over while the provider creates the batch, their new owner still running them: the late batch is cancelled at the provider and not recorded, the records go once more", async () => {
    const batch = await createBatch({ flow: "t-echo", concurrency: 2, source: { kind: "records", records: Array.from({ length: 2 }, (_, i) => ({ id: `c${i}`, n: i + 10 })), recordIdField: "id" } });
    const jobs = await claimJobs(W1, 2, 60_000, 1);
    const customIds = jobs.map((j) => customIdOf(j.id));
    const create = holdFirstCreate();
    const c1 = new Chunk(jobs, W1);
    const late = runProviderBatchChunk(c1.records, c1, openaiSpecAt(mock));
    await create.arrived;

    // the lease lapses while the provider creates the batch; W2 claims the records and is still at them
    await lapse(W1, true);
    const again = await claimJobs(W2, 2, 60_000, 1);
    expect(again.map((j) => j.id).sort()).toEqual(jobs.map((j) => j.id).sort());
    create.release();
    await late;
    const created = holding(customIds);
    expect(created.map((b) => b.state)).toEqual(["cancelling"]);
    const sub = await getPool().query(`SELECT provider_batch_id, provider_status, ended_at IS NOT NULL AS ended FROM provider_batches WHERE batch_id = $1`, [batch.id]);
    expect(sub.rows).toEqual([{ provider_batch_id: null, provider_status: "not_submitted", ended: true }]);

    // W2 finds nothing stored for the attempt and sends the records: the first batch is no longer live
    const c2 = new Chunk(again, W2);
    expect(await runProviderBatchChunk(c2.records, c2, openaiSpecAt(mock))).toEqual(again.map(() => ({ waitingProvider: true })));
    expect((await flushOutcomes(W2, park(again))).applied).toBe(2);
    expect(holding(customIds)).toHaveLength(2);
    expect(overlapsOf(customIds)).toEqual([]);
    for (let i = 0; i < 50 && Number((await batchRow(batch.id)).waiting_provider) > 0; i++) {
      await pollProviderBatches();
      await sleep(15);
    }
    const woken = await claimJobs(W2, 2, 60_000, 1);
    const states = await providerStateOf(woken.map((j) => ({ id: j.id, attempts: j.attempts })));
    for (const j of woken) expect(states.get(j.id)).toMatchObject({ outcome: { ok: true, response: { body: { answer: (j.data as { n: number }).n } } } });
    // neither lost run counted an attempt
    expect(woken.map((j) => j.attempts)).toEqual([1, 1]);
    await expectCountersExact(batch.id);
  });

  it("records lost while the provider creates the batch (a real second worker takes them): one provider batch, never two live, every result once", async () => {
    const records = Array.from({ length: 4 }, (_, i) => ({ id: `e${i}`, text: `lapse text ${i}` }));
    mock.answer = (line) => ({
      status_code: 200,
      body: { object: "list", model: "emb-test", data: [{ object: "embedding", index: 0, embedding: [String(line.body.input).length, 0.25] }], usage: { prompt_tokens: 3, total_tokens: 3 } },
    });
    const batch = await createBatch({
      flow: "embed",
      shuffle: false,
      chunk_size: 4,
      concurrency: 1,
      parameters: { mode: "provider_batch", model: "emb-test", base_url: mock.openaiUrl, api_key_env: "BATCH_PROVIDER_KEY" },
      source: { kind: "records", records, recordIdField: "id" },
    });
    const ours = () => [...mock.batches.values()].filter((b) => b.requests.some((r) => String(r.body.input).startsWith("lapse text ")));
    const before = mock.seen.filter((s) => s.method === "POST" && s.path === "/openai/v1/batches").length;
    const creates = () => mock.seen.filter((s) => s.method === "POST" && s.path === "/openai/v1/batches").length - before;

    // W1 claims the four records as one call; the provider holds its POST /batches
    const create = holdFirstCreate();
    const jobs = await claimJobs(W1, 1, 60_000, 1);
    expect(jobs).toHaveLength(4);
    const customIds = jobs.map((j) => customIdOf(j.id));
    const c1 = new Chunk(jobs, W1);
    const w1 = runChunkToOutcomes(c1, new BatchSettingsCache());
    await create.arrived;

    // its lease lapses while the provider creates the batch; its next heartbeat finds the records
    // lost and aborts the call (as Slots.dropLost does): W1 writes nothing for them
    await lapse(W1, false);
    for (const a of c1.attempts) a.abort(new AbortReason("lost", "the job was cancelled, stopped, or its lease was lost"));
    expect(await w1).toEqual([null, null, null, null]);

    // a second worker sweeps W1's lease and claims the records
    const second = spawnWorker({ ...env, CONCURRENCY: "2" });
    await second.ready;
    // it parks them on W1's submission, still held (or, before the fix, finds it failed and sends or fails them)
    await waitFor(
      "the second worker parked the records, sent them again or finished them",
      async () => (await batchRow(batch.id)).waiting_provider === 4 || creates() > 0 || !["pending", "running"].includes((await getBatch(batch.id)).status),
      20_000,
    );
    // longer than the submission's hold and many polls: a recovery that would give up on W1's
    // submission (the provider has no such batch yet) has done so by now
    await sleep(1500);
    // the provider finishes creating W1's batch
    create.release();
    const done = await waitFor("the batch finished", async () => {
      const b = await getBatch(batch.id);
      return !["pending", "running"].includes(b.status) && b;
    }, 30_000);
    expect(done.status).toBe("completed");
    expect(done).toMatchObject({ succeeded: 4, failed: 0 });
    // give a stray submission time to show up at the provider
    await sleep(300);

    // the provider never held two live batches of a record, and holds one batch of these records, run once
    expect(overlapsOf(customIds)).toEqual([]);
    expect(ours().map((b) => [b.state, b.requests.length])).toEqual([["completed", 4]]);
    expect(creates()).toBe(1);
    const pb = await getPool().query(`SELECT provider_batch_id, provider_status FROM provider_batches WHERE batch_id = $1 AND provider_batch_id IS NOT NULL`, [batch.id]);
    expect(pb.rows).toEqual([{ provider_batch_id: ours()[0]!.id, provider_status: "completed" }]);
    // each record's result once, its own
    const rows = await getPool().query<{ record_id: string; status: string; result: { embedding: number[] } }>(
      `SELECT record_id, status::text, result FROM jobs WHERE batch_id = $1 ORDER BY ordinal`,
      [batch.id],
    );
    expect(rows.rows.map((j) => [j.record_id, j.status, j.result.embedding])).toEqual(records.map((r) => [r.id, "succeeded", [r.text.length, 0.25]]));
    await expectCountersExact(batch.id);
  });
});
