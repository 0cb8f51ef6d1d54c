// A worker process killed (SIGKILL) in the middle of a provider batch submission: after the
// provider's POST /batches took the batch, before the worker stored its id. The provider mock on
// 127.0.0.1 creates the batch and holds its answer, so the kill lands exactly there, in a real
// process. After a restart, recovery finds the provider batch by its metadata and adopts it: nothing
// is submitted twice, every record's result is stored exactly once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { createBatch, getBatch } from "@/lib/engine";
import { startProviderBatchesMock, type ProviderBatchesMock } from "@/test/support/provider-batches-mock";
import { useTestDatabase } from "../helpers/db";
import { trackWorkerProcesses, waitFor } from "./helpers";

const env = {
  BATCHBOARD_HTTP_ALLOWLIST: "127.0.0.1",
  BATCHBOARD_FLOW_SECRETS: "BATCH_PROVIDER_KEY",
  BATCH_PROVIDER_KEY: "sk-kill-test",
  BATCHBOARD_PROVIDER_POLL_MS: "50",
  BATCHBOARD_PROVIDER_POLL_MAX_MS: "100",
  // a killed submitter's hold lapses a second after its last renewal
  BATCHBOARD_PROVIDER_SUBMIT_HOLD_MS: "1000",
};
Object.assign(process.env, env);
useTestDatabase();
const spawnWorker = trackWorkerProcesses();

let mock: ProviderBatchesMock;
beforeAll(async () => {
  mock = await startProviderBatchesMock();
  mock.pollsToEnd = 1;
  mock.answer = (line) => ({
    status_code: 200,
    body: { object: "list", model: "emb-test", data: [{ object: "embedding", index: 0, embedding: [String(line.body.input).length, 0.5] }], usage: { prompt_tokens: 3, total_tokens: 3 } },
  });
});
afterAll(async () => {
  await mock.close();
});

describe("a worker killed between the provider's create and storing the provider batch's id", () => {
  it("after a restart, recovery adopts the provider batch: no second submission, every record's result exactly once", async () => {
    const records = Array.from({ length: 4 }, (_, i) => ({ id: `r${i}`, text: `text number ${i}` }));
    const batch = await createBatch({
      flow: "embed",
      shuffle: false,
      chunk_size: 4,
      concurrency: 1,
      parameters: { mode: "provider_batch", model: "emb-test", base_url: mock.openaiUrl, api_key_env: "BATCH_PROVIDER_KEY" },
      source: { kind: "records", records, recordIdField: "id" },
    });
    const ours = () => [...mock.batches.values()].filter((b) => b.requests.some((r) => String(r.body.input).startsWith("text number ")));
    const creates = () => mock.seen.filter((s) => s.method === "POST" && s.path === "/openai/v1/batches").length;

    // the provider takes the batch and never answers: the worker is killed while it waits
    mock.answerDelayMs = Infinity;
    const first = spawnWorker({ CONCURRENCY: "2" });
    await first.ready;
    await waitFor("the provider batch created", async () => ours().length === 1, 20_000);
    first.child.kill("SIGKILL");
    await first.exited;
    const orphan = await getPool().query(`SELECT provider_batch_id, provider_status FROM provider_batches WHERE batch_id = $1`, [batch.id]);
    expect(orphan.rows).toEqual([{ provider_batch_id: null, provider_status: "submitting" }]);
    expect(creates()).toBe(1);

    // the restart: the dead worker's jobs come back, park on the submission; its recovery adopts the batch
    mock.answerDelayMs = 0;
    const second = spawnWorker({ CONCURRENCY: "2" });
    await second.ready;
    const done = await waitFor("the batch completed", async () => {
      const b = await getBatch(batch.id);
      return b.status === "completed" && b;
    }, 30_000);
    expect(done).toMatchObject({ succeeded: 4, failed: 0 });
    expect(second.logs().some((l) => l.includes(`adopted provider batch ${ours()[0]!.id}`))).toBe(true);

    // one submission: the provider has one batch of these records, created once, never cancelled
    expect(creates()).toBe(1);
    expect(ours().map((b) => [b.state, b.requests.length])).toEqual([["completed", 4]]);
    const pb = await getPool().query(`SELECT provider_batch_id, provider_status, ended_at IS NOT NULL AS ended FROM provider_batches WHERE batch_id = $1`, [batch.id]);
    expect(pb.rows).toEqual([{ provider_batch_id: ours()[0]!.id, provider_status: "completed", ended: true }]);
    // each record's result once, its own; the lost run counted as an interruption, not as an attempt
    const jobs = await getPool().query<{ record_id: string; status: string; attempts: number; interruptions: number; result: { embedding: number[] } }>(
      `SELECT record_id, status::text, attempts, interruptions, result FROM jobs WHERE batch_id = $1 ORDER BY ordinal`,
      [batch.id],
    );
    expect(jobs.rows.map((j) => [j.record_id, j.status, j.attempts, j.result.embedding])).toEqual(
      records.map((r) => [r.id, "succeeded", 1, [r.text.length, 0.5]]),
    );
    expect(jobs.rows.every((j) => j.interruptions === 1)).toBe(true);
    const requests = await getPool().query(`SELECT count(*)::int AS n, count(DISTINCT job_id)::int AS jobs FROM provider_requests r JOIN jobs j ON j.id = r.job_id WHERE j.batch_id = $1`, [batch.id]);
    expect(requests.rows[0]).toEqual({ n: 4, jobs: 4 });
  });
});
