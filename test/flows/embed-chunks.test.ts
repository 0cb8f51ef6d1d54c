// embed with chunk_size > 1: one /embeddings request per chunk (an array of inputs), results mapped
// back to their records by the answer's index, usage reported once per call for the rate limiter,
// a record the upstream refuses failing alone. Against a local server, then on the real engine.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createBatch, getBatch } from "@/lib/engine";
import { embed } from "@/lib/flows/embed";
import { FlowError } from "@/lib/flows/types";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { getPool } from "@/lib/db/client";
import { waitFor } from "@/test/support/wait";
import { useTestDatabase } from "../helpers/db";
import { record, rejection, runChunkFlow } from "./context";
import { startTestServer, type SeenRequest, type TestServer } from "./server";

let server: TestServer;
const savedAllowlist = process.env.BATCHBOARD_HTTP_ALLOWLIST;

/** An /embeddings server: each input's vector is [its length, its position in the request]; an input containing "TOO LONG" refuses the request (400). */
function embeddingsAnswer(req: SeenRequest) {
  const body = JSON.parse(req.body) as { input: string | string[] };
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  if (inputs.some((t) => t.includes("TOO LONG"))) return { status: 400, json: { error: { message: "This model's maximum context length is 8192 tokens" } } };
  // answered in reverse order, each with its index: the flow must map by index, not by order
  const data = inputs.map((t, index) => ({ object: "embedding", index, embedding: [t.length, index] })).reverse();
  return { json: { object: "list", model: "embed-small", data, usage: { prompt_tokens: inputs.length * 2, total_tokens: inputs.length * 2 } } };
}
const inputsOf = (req: SeenRequest) => (JSON.parse(req.body) as { input: string | string[] }).input;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  process.env.BATCHBOARD_HTTP_ALLOWLIST = "127.0.0.1";
  server.requests.length = 0;
  server.reply(embeddingsAnswer);
});
afterEach(() => {
  if (savedAllowlist === undefined) delete process.env.BATCHBOARD_HTTP_ALLOWLIST;
  else process.env.BATCHBOARD_HTTP_ALLOWLIST = savedAllowlist;
});

const params = () => ({ base_url: `${server.url}/v1`, model: "embed-small", prices: { input_per_1m: 1_000_000 } });
const texts = (...t: string[]) => t.map((text, i) => record({ text }, `r${i}`, i));

describe("embed runChunk", () => {
  it("sends the chunk's inputs as one array and maps each embedding back to its record by index", async () => {
    const { outcomes, harness } = await runChunkFlow(embed, texts("a", "bb", "ccc"), params());
    expect(server.requests).toHaveLength(1);
    expect(inputsOf(server.requests[0]!)).toEqual(["a", "bb", "ccc"]);
    expect(outcomes.map((o) => ("result" in o ? (o.result as { embedding: number[] }).embedding : "error" in o ? o.error.code : "waiting"))).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
    ]);
    // the call's usage once (the rate limiter corrects its estimate by it), its cost once (split by the engine)
    expect(harness.usage).toEqual([{ input_tokens: 6, output_tokens: 0 }]);
    expect(harness.costs).toEqual([{ amount: 6, index: undefined }]);
    expect((outcomes[0] as { result: { usage: unknown } }).result.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
  });

  it("an answer missing one input's embedding fails that record alone, clearly", async () => {
    server.reply(() => ({ json: { data: [{ index: 0, embedding: [1] }, { index: 2, embedding: [3] }], usage: { prompt_tokens: 3 } } }));
    const { outcomes } = await runChunkFlow(embed, texts("a", "b", "c"), params());
    expect("result" in outcomes[0]!).toBe(true);
    expect("result" in outcomes[2]!).toBe(true);
    const missing = outcomes[1] as { error: FlowError };
    expect(missing.error).toMatchObject({ code: "invalid_response", retryable: false });
    expect(missing.error.message).toContain("input 1 of 3 (record r1)");
  });

  it("a request refused for one input (too long) is sent again input by input: only that record fails, with the upstream's error", async () => {
    const { outcomes, harness } = await runChunkFlow(embed, texts("a", "TOO LONG", "c"), params());
    expect(server.requests.map(inputsOf)).toEqual([["a", "TOO LONG", "c"], "a", "TOO LONG", "c"]);
    expect("result" in outcomes[0]! && "result" in outcomes[2]!).toBe(true);
    expect((outcomes[1] as { error: FlowError }).error).toMatchObject({ code: "http_400", retryable: false });
    expect((outcomes[1] as { error: FlowError }).error.message).toContain("maximum context length");
    // each record's own request: its own cost
    expect(harness.costs).toEqual([
      { amount: 2, index: 0 },
      { amount: 2, index: 2 },
    ]);
  });

  it("a record whose template field is missing fails alone; the others are sent", async () => {
    const { outcomes } = await runChunkFlow(embed, [record({ text: "a" }, "r0"), record({ body: "x" }, "r1", 1)], params());
    expect(inputsOf(server.requests[0]!)).toEqual(["a"]);
    expect((outcomes[1] as { error: FlowError }).error).toMatchObject({ code: "template_field_missing", retryable: false });
  });

  it("a 5xx fails the whole call, retryable (the engine retries each record)", async () => {
    server.reply({ status: 503, json: { error: { message: "overloaded" } } });
    expect(await rejection(runChunkFlow(embed, texts("a", "b"), params()))).toMatchObject({ code: "http_503", retryable: true });
  });
});

describe("embed batches with chunk_size", () => {
  useTestDatabase();
  let worker: WorkerHandle;
  beforeAll(async () => {
    worker = await startWorker({ mode: "in-process", concurrency: 4, pollMs: 50, maintenanceMs: 200, log: () => {} });
  });
  afterAll(async () => {
    await worker?.stop(1000);
  });

  it("sends at most chunk_size inputs per request; every record gets its own embedding; a too-long one fails alone", async () => {
    const records = Array.from({ length: 45 }, (_, i) => ({ id: `r${i}`, text: i === 17 ? "TOO LONG" : "x".repeat(i + 1) }));
    const b = await createBatch({
      flow: "embed",
      parameters: { base_url: `${server.url}/v1`, model: "embed-small" },
      source: { kind: "records", records, recordIdField: "id" },
      chunk_size: 10,
      concurrency: 2,
      rate_limit: { requests_per_minute: 100_000, tokens_per_minute: 10_000_000 },
    });
    const done = await waitFor("embedded", async () => {
      const x = await getBatch(b.id);
      return x.status === "completed" && x;
    }, 30_000);
    expect(done).toMatchObject({ succeeded: 44, failed: 1 });
    const arrays = server.requests.map(inputsOf).filter(Array.isArray);
    expect(arrays.length).toBeGreaterThanOrEqual(5);
    expect(arrays.every((a) => a.length <= 10)).toBe(true);
    const { rows } = await getPool().query<{ record_id: string; status: string; error_code: string | null; result: { embedding: number[] } | null }>(
      `SELECT record_id, status::text, error_code, result FROM jobs WHERE batch_id = $1`,
      [b.id],
    );
    for (const r of rows) {
      const i = Number(r.record_id.slice(1));
      if (i === 17) expect([r.status, r.error_code]).toEqual(["failed", "http_400"]);
      else expect(r.result!.embedding[0]).toBe(i + 1); // its own input's length: mapped back to the right record
    }
    // the rate limiter charged one request per call, and its tokens are what the upstream reported
    // (2 per embedded input), its estimates corrected (the correction lands just after the outcome)
    const limit = await waitFor("usage settled", async () => {
      const { rows: l } = await getPool().query<{ requests: number; tokens: number }>(
        `SELECT window_requests + last_requests AS requests, window_tokens + last_tokens AS tokens FROM rate_limits WHERE key = $1`,
        [`batch:${b.id}`],
      );
      return l[0]!.tokens === 88 && l[0]!;
    });
    expect(limit.requests).toBe(arrays.length);
  });
});
