// The llm flow in mode provider_batch, through the API and real workers against a local mock of both
// providers' batch tiers: records go out in provider batches of chunk_size, park (waiting_provider)
// and finish from the provider's output; a record the provider failed fails alone, a retryable one
// is sent again; cost is the prices times the discount; a restart while the provider works loses
// nothing; cancel reaches the provider; bad combinations are 422s naming the field.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { getBatch } from "@/lib/engine";
import { startWorker } from "@/lib/worker/worker";
import { startProviderBatchesMock, type MockRequestLine, type ProviderBatchesMock } from "@/test/support/provider-batches-mock";
import { allResults as results } from "@/test/support/results";
import { waitFor } from "@/test/support/wait";
import { useTestDatabase } from "../helpers/db";
import { call } from "../security/call";

process.env.BATCHBOARD_AUTH = "off";
process.env.BATCHBOARD_HTTP_ALLOWLIST = "127.0.0.1";
process.env.BATCHBOARD_FLOW_SECRETS = "BATCH_PROVIDER_KEY";
process.env.BATCH_PROVIDER_KEY = "sk-batch-test";
process.env.BATCHBOARD_PROVIDER_POLL_MS = "50";
process.env.BATCHBOARD_PROVIDER_POLL_MAX_MS = "100";
useTestDatabase();

let mock: ProviderBatchesMock;
beforeAll(async () => {
  mock = await startProviderBatchesMock();
});
afterAll(async () => {
  await mock.close();
});

const promptOf = (line: MockRequestLine) => String((line.body.messages as { content: string }[]).at(-1)!.content);
const completion = (text: string) => ({ id: "chatcmpl-1", model: "gpt-test", choices: [{ message: { role: "assistant", content: text } }], usage: { prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 } });
beforeEach(() => {
  mock.pollsToEnd = 1;
  mock.answer = (line) => ({ status_code: 200, body: completion(`echo ${promptOf(line)}`) });
});

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, text: `t${i}` }));
const params = (extra: Record<string, unknown> = {}) => ({
  mode: "provider_batch",
  model: "gpt-test",
  base_url: mock.openaiUrl,
  api_key_env: "BATCH_PROVIDER_KEY",
  user_prompt: "{{record.text}}",
  prices: { input_per_1m: 1, output_per_1m: 10 },
  ...extra,
});
const create = (body: Record<string, unknown>) => call("POST", "/api/batches", { body: { flow: "llm", shuffle: false, ...body } });
const worker = () => startWorker({ mode: "in-process", concurrency: 2, pollMs: 50, maintenanceMs: 50 });

describe("llm in mode provider_batch", () => {
  it("sends chunk_size records per provider batch, parks them without holding slots, and finishes each from its own answer at the discount", async () => {
    mock.pollsToEnd = 3;
    const created = await create({ records: records(5), parameters: params(), chunk_size: 2, concurrency: 1 });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const id = created.json.id as string;
    expect(created.json.options.chunk_size).toBe(2);
    const w = await worker();
    try {
      // concurrency 1 counts calls, and a parked call holds none: all three provider batches go out
      await waitFor("every record at the provider", async () => (await getBatch(id)).waitingProvider === 5);
      await waitFor("the batch to finish", async () => (await getBatch(id)).status === "completed", 20_000);
    } finally {
      await w.stop(1000);
    }
    const sent = [...mock.batches.values()].filter((b) => b.requests.some((r) => String((r.body.messages as { content: string }[])[0]!.content).startsWith("t")));
    expect(sent.map((b) => b.requests.length).sort()).toEqual([1, 2, 2]);
    const rows = await results(id);
    expect(rows.map((r) => [r.recordId, r.status, (r.result as { content: string }).content])).toEqual(
      records(5).map((r) => [r.id, "succeeded", `echo ${r.text}`]),
    );
    // 1000 input and 100 output tokens at 1 and 10 per million, half price
    const batch = await getBatch(id);
    expect(batch.costSpent).toBeCloseTo(5 * (0.001 + 0.001) * 0.5, 9);
    const pbs = await call("GET", "/api/batches/[id]/provider-batches", { params: { id } });
    expect(pbs.status).toBe(200);
    expect(pbs.json.items).toHaveLength(3);
    for (const p of pbs.json.items) expect(p).toMatchObject({ provider: "openai", status: "completed", ended_at: expect.any(String), failed: 0 });
    expect(mock.seen.every((s) => s.headers.authorization === "Bearer sk-batch-test")).toBe(true);
  });

  it("a record the provider refused fails alone with its error; a retryable one is sent again in a new provider batch", async () => {
    const tries = new Map<string, number>();
    mock.pollsToEnd = 0;
    mock.answer = (line) => {
      const p = promptOf(line);
      const n = (tries.get(line.custom_id) ?? 0) + 1;
      tries.set(line.custom_id, n);
      if (p === "t1") return { status_code: 400, body: { error: { message: "context length exceeded" } } };
      if (p === "t2" && n === 1) return { status_code: 503, body: { error: { message: "overloaded" } } };
      if (p === "t3") return "garbage";
      return { status_code: 200, body: completion(`ok ${p}`) };
    };
    const created = await create({ records: records(4), parameters: params(), chunk_size: 10, max_retries: 1, retry_backoff_ms: 10 });
    const id = created.json.id as string;
    const w = await worker();
    try {
      await waitFor("the batch to finish", async () => ["completed", "failed"].includes((await getBatch(id)).status), 20_000);
    } finally {
      await w.stop(1000);
    }
    const rows = new Map((await results(id)).map((r) => [r.recordId, r]));
    expect(rows.get("r0")).toMatchObject({ status: "succeeded" });
    expect(rows.get("r1")).toMatchObject({ status: "failed", error: { code: "http_400", message: expect.stringContaining("context length exceeded") } });
    expect(rows.get("r2")).toMatchObject({ status: "succeeded", result: expect.objectContaining({ content: "ok t2" }) });
    // unreadable output: a clear retryable error, tried again, then failed by max_retries; nothing lost
    expect(rows.get("r3")).toMatchObject({ status: "failed", error: { code: "invalid_provider_output", message: expect.stringContaining("could not be read") } });
    const attempts = await getPool().query(`SELECT j.record_id, j.attempts FROM jobs j WHERE batch_id = $1 ORDER BY record_id`, [id]);
    expect(attempts.rows).toEqual([
      { record_id: "r0", attempts: 1 },
      { record_id: "r1", attempts: 1 },
      { record_id: "r2", attempts: 2 },
      { record_id: "r3", attempts: 2 },
    ]);
  });

  it("a worker stopped while the provider works loses nothing: another one finishes the batch from the stored provider batch", async () => {
    mock.pollsToEnd = Infinity;
    const created = await create({ records: records(3), parameters: params({ provider: "anthropic", base_url: mock.anthropicUrl }), chunk_size: 5 });
    const id = created.json.id as string;
    mock.answer = (line) => ({ status_code: 200, body: { id: `msg_${line.custom_id}`, type: "message", model: "claude-test", content: [{ type: "text", text: `hi ${String((line.body.messages as { content: string }[])[0]!.content)}` }], usage: { input_tokens: 10, output_tokens: 5 } } });
    const first = await worker();
    try {
      await waitFor("parked at the provider", async () => (await getBatch(id)).waitingProvider === 3);
    } finally {
      await first.stop(1000);
    }
    expect(mock.batches.size).toBeGreaterThan(0);
    const before = mock.batches.size;
    mock.pollsToEnd = 0;
    const second = await worker();
    try {
      await waitFor("the batch to finish", async () => (await getBatch(id)).status === "completed", 20_000);
    } finally {
      await second.stop(1000);
    }
    // nothing was sent twice
    expect(mock.batches.size).toBe(before);
    expect((await results(id)).map((r) => (r.result as { content: string }).content)).toEqual(["hi t0", "hi t1", "hi t2"]);
  });

  it("a provider batch created whose answer never came back is found by its metadata and adopted: nothing is sent or billed twice", async () => {
    mock.pollsToEnd = 0;
    mock.loseCreateAnswers = 1;
    const before = new Set(mock.batches.keys());
    const created = await create({ records: records(3), parameters: params({ user_prompt: "lost {{record.text}}" }), chunk_size: 5, max_retries: 2, retry_backoff_ms: 10 });
    const id = created.json.id as string;
    const w = await worker();
    try {
      await waitFor("the batch to finish", async () => (await getBatch(id)).status === "completed", 20_000);
    } finally {
      await w.stop(1000);
    }
    expect(mock.loseCreateAnswers).toBe(0);
    // one provider batch at the provider for these records: the one whose answer was lost
    const made = [...mock.batches.values()].filter((b) => !before.has(b.id));
    expect(made.map((b) => b.requests.length)).toEqual([3]);
    expect(made[0]!.metadata).toMatchObject({ batchboard_batch: id, batchboard_submission: expect.any(String) });
    expect((await results(id)).map((r) => [r.status, (r.result as { content: string }).content])).toEqual(records(3).map((r) => ["succeeded", `echo lost ${r.text}`]));
    const attempts = await getPool().query(`SELECT attempts FROM jobs WHERE batch_id = $1`, [id]);
    expect(attempts.rows.every((r) => r.attempts === 1)).toBe(true);
    const pbs = (await call("GET", "/api/batches/[id]/provider-batches", { params: { id } })).json.items;
    expect(pbs).toHaveLength(1);
    expect(pbs[0]).toMatchObject({ provider_batch_id: made[0]!.id, status: "completed", succeeded: 3 });
  });

  it("cancelling the batch cancels its provider batch at the provider", async () => {
    mock.pollsToEnd = Infinity;
    const created = await create({ records: records(2), parameters: params(), chunk_size: 5 });
    const id = created.json.id as string;
    const w = await worker();
    try {
      await waitFor("parked at the provider", async () => (await getBatch(id)).waitingProvider === 2);
      expect((await call("POST", "/api/batches/[id]/cancel", { params: { id } })).status).toBe(200);
      await waitFor("the provider batch cancelled", async () => {
        const p = (await call("GET", "/api/batches/[id]/provider-batches", { params: { id } })).json.items[0];
        return p.cancel_requested_at !== null && p.ended_at !== null;
      }, 10_000);
    } finally {
      await w.stop(1000);
    }
    expect(mock.seen.some((s) => s.method === "POST" && s.path.endsWith("/cancel"))).toBe(true);
    expect(await getBatch(id)).toMatchObject({ status: "cancelled" });
  });

  it("refuses provider_batch with interactive, chunk_size 1 or above the provider's limit, and on a flow without that mode, naming the field", async () => {
    const interactive = await create({ records: records(1), parameters: params(), interactive: true });
    expect(interactive.status).toBe(422);
    expect(interactive.json.error.details[0].path).toBe("interactive");
    for (const size of [1, 50_001]) {
      const r = await create({ records: records(1), parameters: params(), chunk_size: size });
      expect(r.status, JSON.stringify(r.json)).toBe(422);
      expect(r.json.error.details[0].path).toBe("chunk_size");
    }
    const live = await create({ records: records(1), parameters: params({ mode: "live" }), chunk_size: 10 });
    expect(live.status).toBe(422);
    expect(live.json.error.details[0].path).toBe("chunk_size");
    const echo = await call("POST", "/api/batches", { body: { flow: "echo", records: records(1), parameters: { mode: "provider_batch" } } });
    expect(echo.status).toBe(422);
    expect(JSON.stringify(echo.json.error.details)).toContain("mode");
  });
});
