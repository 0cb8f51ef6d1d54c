// The embed flow in mode provider_batch, through the API and real workers against the local mock of
// an OpenAI-compatible Batch API: records go out as /v1/embeddings requests in provider batches of
// chunk_size, park (waiting_provider) and finish from the provider's output, each with its own
// vector, usage and cost (the price times the discount); a record the provider failed fails alone
// with the error file's message, a retryable one is sent again; provider anthropic is a 422.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
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
process.env.BATCH_PROVIDER_KEY = "sk-embed-batch-test";
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

/** a vector that names its input: [length of the text, its first char code, 0.5] */
const vectorOf = (text: string) => [text.length, text.charCodeAt(0), 0.5];
const embedding = (line: MockRequestLine, tokens: number) => ({
  object: "list",
  model: "emb-test",
  data: [{ object: "embedding", index: 0, embedding: vectorOf(String(line.body.input)) }],
  usage: { prompt_tokens: tokens, total_tokens: tokens },
});
beforeEach(() => {
  mock.pollsToEnd = 1;
  mock.answer = (line) => ({ status_code: 200, body: embedding(line, 2000) });
});

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, text: `text ${i}` }));
const params = (extra: Record<string, unknown> = {}) => ({
  mode: "provider_batch",
  model: "emb-test",
  base_url: mock.openaiUrl,
  api_key_env: "BATCH_PROVIDER_KEY",
  prices: { input_per_1m: 1 },
  ...extra,
});
const create = (body: Record<string, unknown>) => call("POST", "/api/batches", { body: { flow: "embed", shuffle: false, cache: false, ...body } });
const worker = () => startWorker({ mode: "in-process", concurrency: 2, pollMs: 50, maintenanceMs: 50 });

describe("embed in mode provider_batch", () => {
  it("sends chunk_size /v1/embeddings requests per provider batch and finishes each record with its own vector, usage and discounted cost", async () => {
    mock.pollsToEnd = 2;
    const created = await create({ records: records(5), parameters: params(), chunk_size: 3, concurrency: 1 });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const id = created.json.id as string;
    expect(created.json.options.chunk_size).toBe(3);
    const w = await worker();
    try {
      await waitFor("every record at the provider", async () => (await getBatch(id)).waitingProvider === 5);
      await waitFor("the batch to finish", async () => (await getBatch(id)).status === "completed", 20_000);
    } finally {
      await w.stop(1000);
    }
    const sent = [...mock.batches.values()].filter((b) => b.requests.some((r) => String(r.body.input).startsWith("text ")));
    expect(sent.map((b) => b.requests.length).sort()).toEqual([2, 3]);
    // one input per request, to the embeddings endpoint, the body a live call sends
    const uploaded = [...mock.files.entries()].filter(([k]) => /^file-\d+$/.test(k)).flatMap(([, text]) => text.trim().split("\n").map((l) => JSON.parse(l)));
    expect(uploaded).toHaveLength(5);
    for (const line of uploaded) expect(line).toMatchObject({ method: "POST", url: "/v1/embeddings", body: { model: "emb-test", input: expect.stringMatching(/^text \d$/) } });
    expect(mock.seen.filter((s) => s.method === "POST" && s.path.endsWith("/batches")).length).toBe(2);
    const rows = await results(id);
    expect(rows.map((r) => [r.recordId, r.status, (r.result as { embedding: number[] }).embedding])).toEqual(records(5).map((r) => [r.id, "succeeded", vectorOf(r.text)]));
    expect(rows[0]!.result).toMatchObject({ dimensions: 3, model: "emb-test", usage: { prompt_tokens: 2000, total_tokens: 2000 }, response: { status_code: 200 } });
    // 2000 tokens at 1 per million, half price, each record its own
    for (const r of rows) expect(r.cost).toBeCloseTo(0.002 * 0.5, 12);
    expect((await getBatch(id)).costSpent).toBeCloseTo(5 * 0.002 * 0.5, 12);
    const pbs = await call("GET", "/api/batches/[id]/provider-batches", { params: { id } });
    expect(pbs.json.items).toHaveLength(2);
    for (const p of pbs.json.items) expect(p).toMatchObject({ provider: "openai", status: "completed", failed: 0 });
    expect(mock.seen.every((s) => s.headers.authorization === "Bearer sk-embed-batch-test")).toBe(true);
  });

  it("a record the provider refused fails alone with the error file's message; a retryable one goes in a new provider batch", async () => {
    const tries = new Map<string, number>();
    mock.pollsToEnd = 0;
    mock.answer = (line) => {
      const text = String(line.body.input);
      const n = (tries.get(line.custom_id) ?? 0) + 1;
      tries.set(line.custom_id, n);
      if (text === "text 1") return { status_code: 400, body: { error: { message: "input too long for the model" } } };
      if (text === "text 2" && n === 1) return { error: { code: "server_error", message: "try again" } };
      if (text === "text 3") return { status_code: 200, body: { object: "list", data: [] } };
      return { status_code: 200, body: embedding(line, 10) };
    };
    const before = new Set(mock.batches.keys());
    const created = await create({ records: records(4), parameters: params(), chunk_size: 10, max_retries: 1, retry_backoff_ms: 10 });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const id = created.json.id as string;
    const w = await worker();
    try {
      await waitFor("the batch to finish", async () => ["completed", "failed"].includes((await getBatch(id)).status), 20_000);
    } finally {
      await w.stop(1000);
    }
    const rows = new Map((await results(id)).map((r) => [r.recordId, r]));
    expect(rows.get("r0")).toMatchObject({ status: "succeeded", result: { embedding: vectorOf("text 0") } });
    expect(rows.get("r1")).toMatchObject({ status: "failed", error: { code: "http_400", message: expect.stringContaining("input too long for the model"), retryable: false } });
    expect(rows.get("r2")).toMatchObject({ status: "succeeded", result: { embedding: vectorOf("text 2") } });
    // an answer without a vector: that record's own error, not retried
    expect(rows.get("r3")).toMatchObject({ status: "failed", error: { code: "invalid_response", message: expect.stringContaining("embedding") } });
    // two provider batches: the first with all four, the second with r2 alone
    const sizes = [...mock.batches.values()].filter((b) => !before.has(b.id)).map((b) => b.requests.length);
    expect(sizes).toEqual([4, 1]);
  });

  it("refuses provider anthropic (no embeddings batch), naming the field; and a chunk_size outside the mode's sizes", async () => {
    const anthropic = await create({ records: records(1), parameters: params({ provider: "anthropic" }) });
    expect(anthropic.status).toBe(422);
    expect(anthropic.json.error.details.map((d: { path: string }) => d.path)).toEqual(["parameters.provider"]);
    expect(anthropic.json.error.details[0].message).toMatch(/Anthropic has no embeddings/);
    for (const size of [1, 50_001]) {
      const r = await create({ records: records(1), parameters: params(), chunk_size: size });
      expect(r.status, JSON.stringify(r.json)).toBe(422);
      expect(r.json.error.details[0].path).toBe("chunk_size");
    }
    // live embed keeps its own sizes: 2049 is too many inputs for one request, 2048 is fine
    expect((await create({ records: records(1), parameters: params({ mode: "live" }), chunk_size: 2049 })).status).toBe(422);
    expect((await create({ records: records(1), parameters: params({ mode: "live" }), chunk_size: 2048 })).status).toBe(201);
    // provider_batch defaults to 1000 per provider batch, live to 1 input per request
    expect((await create({ records: records(1), parameters: params() })).json.options.chunk_size).toBe(1000);
    expect((await create({ records: records(1), parameters: params({ mode: "live" }) })).json.options.chunk_size).toBe(1);
    const interactive = await create({ records: records(1), parameters: params(), interactive: true });
    expect(interactive.status).toBe(422);
    expect(interactive.json.error.details[0].path).toBe("interactive");
  });
});
