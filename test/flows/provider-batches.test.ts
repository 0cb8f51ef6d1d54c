// The clients of the providers' batch tiers (OpenAI files + batches, Anthropic message batches)
// against a local server implementing both: what is sent (the JSONL, the keys), the states read
// back, and each request's outcome matched by custom_id, partial failures, expiry, cancel and
// malformed output named line by line, nothing dropped silently.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { anthropicBatches } from "@/lib/flows/provider-batch/anthropic";
import { openaiBatches } from "@/lib/flows/provider-batch/openai";
import type { ProviderConnection, ProviderRequest } from "@/lib/flows/provider-batch/types";
import { startProviderBatchesMock, type ProviderBatchesMock } from "@/test/support/provider-batches-mock";
import { rejection } from "./context";

process.env.BATCHBOARD_HTTP_ALLOWLIST = "127.0.0.1";
process.env.BATCHBOARD_FLOW_SECRETS = "PROVIDER_TEST_KEY";
process.env.PROVIDER_TEST_KEY = "sk-provider-test-42";

let mock: ProviderBatchesMock;
beforeAll(async () => {
  mock = await startProviderBatchesMock();
});
afterAll(async () => {
  await mock.close();
});
beforeEach(() => {
  mock.seen.length = 0;
  mock.pollsToEnd = 1;
  mock.answer = (line) => ({ status_code: 200, body: { answer: `done ${String(line.body.n)}` } });
});

const conn = (baseUrl: string, apiKeyEnv: string | undefined = "PROVIDER_TEST_KEY"): ProviderConnection => ({
  baseUrl,
  apiKeyEnv,
  signal: new AbortController().signal,
  timeoutMs: 5000,
});
const requests = (n: number): ProviderRequest[] => Array.from({ length: n }, (_, i) => ({ customId: `job-${i + 1}`, body: { model: "m", n: i + 1 } }));

describe("OpenAI batches", () => {
  it("uploads the requests as one JSONL file, creates a batch over it, and reads each answer back by custom_id", async () => {
    const c = conn(mock.openaiUrl);
    const created = await openaiBatches.submit(c, requests(3), { endpoint: "/v1/chat/completions", metadata: { batchboard_batch: "b1" } });
    expect(created).toMatchObject({ status: "in_progress", ended: false, counts: { total: 3 } });
    const input = mock.files.get(`file-${Number(created.id.replace("batch_", "")) - 1}`)!;
    expect(input.trim().split("\n").map((l) => JSON.parse(l))).toEqual(
      requests(3).map((r) => ({ custom_id: r.customId, method: "POST", url: "/v1/chat/completions", body: r.body })),
    );
    expect(mock.batches.get(created.id)!.metadata).toEqual({ batchboard_batch: "b1" });

    expect((await openaiBatches.get(c, created.id)).ended).toBe(false);
    const ended = await openaiBatches.get(c, created.id);
    expect(ended).toMatchObject({ status: "completed", ended: true, counts: { total: 3, succeeded: 3, failed: 0 } });
    const results = await openaiBatches.results(c, ended);
    expect(results.malformed).toEqual([]);
    expect([...results.outcomes.keys()].sort()).toEqual(["job-1", "job-2", "job-3"]);
    expect(results.outcomes.get("job-2")).toEqual({ customId: "job-2", ok: true, response: { status_code: 200, request_id: "req_job-2", body: { answer: "done 2" } } });
    // every call carried the key from the listed variable
    expect(mock.seen.length).toBeGreaterThanOrEqual(5);
    for (const s of mock.seen) expect(s.headers.authorization).toBe("Bearer sk-provider-test-42");
  });

  it("names each request's own failure, the lines it cannot read, and leaves out nothing it was given", async () => {
    mock.pollsToEnd = 0;
    mock.answer = (line) =>
      line.custom_id === "job-1" ? { status_code: 200, body: { ok: 1 } }
      : line.custom_id === "job-2" ? { status_code: 400, body: { error: { message: "context length exceeded" } } }
      : line.custom_id === "job-3" ? { status_code: 503, body: { error: { message: "overloaded" } } }
      : line.custom_id === "job-4" ? { error: { code: "invalid_request", message: "bad body" } }
      : line.custom_id === "job-5" ? "garbage"
      : "omit";
    const c = conn(mock.openaiUrl);
    const created = await openaiBatches.submit(c, requests(6), { endpoint: "/chat/completions" });
    const ended = await openaiBatches.get(c, created.id);
    const { outcomes, malformed } = await openaiBatches.results(c, ended);
    expect(outcomes.get("job-1")).toMatchObject({ ok: true });
    expect(outcomes.get("job-2")).toMatchObject({ ok: false, code: "http_400", retryable: false, message: "the provider answered 400: context length exceeded" });
    expect(outcomes.get("job-3")).toMatchObject({ ok: false, code: "http_503", retryable: true });
    expect(outcomes.get("job-4")).toMatchObject({ ok: false, code: "invalid_request", message: "bad body", retryable: false });
    expect(outcomes.has("job-5")).toBe(false);
    expect(outcomes.has("job-6")).toBe(false);
    expect(malformed).toEqual([{ file: "output", line: 2, reason: expect.stringContaining("not JSON") }]);
  });

  it("a cancelled batch returns the requests it never ran as cancelled, to be sent again", async () => {
    mock.pollsToEnd = Infinity;
    const c = conn(mock.openaiUrl);
    const created = await openaiBatches.submit(c, requests(2), { endpoint: "/v1/chat/completions" });
    expect((await openaiBatches.cancel(c, created.id)).status).toBe("cancelling");
    const ended = await openaiBatches.get(c, created.id);
    expect(ended).toMatchObject({ status: "cancelled", ended: true });
    const { outcomes } = await openaiBatches.results(c, ended);
    expect(outcomes.get("job-1")).toMatchObject({ ok: false, code: "provider_batch_cancelled", retryable: true });
    expect(outcomes.get("job-2")).toMatchObject({ ok: false, code: "provider_batch_cancelled", retryable: true });
  });

  it("an expired batch keeps what was answered and returns the rest as expired", async () => {
    mock.pollsToEnd = Infinity;
    const c = conn(mock.openaiUrl);
    const created = await openaiBatches.submit(c, requests(3), { endpoint: "/v1/chat/completions" });
    mock.expire(created.id, 1);
    const ended = await openaiBatches.get(c, created.id);
    expect(ended).toMatchObject({ status: "expired", ended: true });
    const { outcomes } = await openaiBatches.results(c, ended);
    expect(outcomes.get("job-1")).toMatchObject({ ok: true });
    expect(outcomes.get("job-2")).toMatchObject({ ok: false, code: "provider_batch_expired", retryable: true });
    expect(outcomes.get("job-3")).toMatchObject({ ok: false, code: "provider_batch_expired", retryable: true });
  });

  it("a batch the provider failed as a whole says why", async () => {
    mock.pollsToEnd = Infinity;
    const c = conn(mock.openaiUrl);
    const created = await openaiBatches.submit(c, requests(1), { endpoint: "/v1/chat/completions" });
    mock.failValidation(created.id, "model not found");
    const ended = await openaiBatches.get(c, created.id);
    expect(ended).toMatchObject({ status: "failed", ended: true, failure: "invalid_request (line 1): model not found" });
    expect((await openaiBatches.results(c, ended)).outcomes.size).toBe(0);
  });

  it("a key variable the operator did not list is refused before anything is sent", async () => {
    process.env.NOT_LISTED_KEY = "sk-secret";
    const err = await rejection(openaiBatches.submit(conn(mock.openaiUrl, "NOT_LISTED_KEY"), requests(1), { endpoint: "/v1/chat/completions" }));
    expect(String((err as Error).message)).toContain("NOT_LISTED_KEY");
    expect(mock.seen).toEqual([]);
  });
});

describe("Anthropic message batches", () => {
  it("sends the requests with x-api-key and anthropic-version, and reads succeeded, errored and expired results by custom_id", async () => {
    mock.pollsToEnd = Infinity;
    mock.answer = (line) =>
      line.custom_id === "job-2" ? { error: { code: "invalid_request_error", message: "prompt is too long" } }
      : line.custom_id === "job-3" ? "garbage"
      : { status_code: 200, body: { id: `msg_${line.custom_id}`, type: "message", content: [{ type: "text", text: "hi" }] } };
    const c = conn(mock.anthropicUrl);
    const created = await anthropicBatches.submit(c, requests(4), { endpoint: "/v1/messages" });
    expect(created).toMatchObject({ status: "in_progress", ended: false, counts: { total: 4 } });
    expect(mock.batches.get(created.id)!.requests).toEqual(requests(4).map((r) => ({ custom_id: r.customId, body: r.body })));
    mock.expire(created.id, 3);
    const ended = await anthropicBatches.get(c, created.id);
    expect(ended).toMatchObject({ status: "ended", ended: true });
    const { outcomes, malformed } = await anthropicBatches.results(c, ended);
    expect(outcomes.get("job-1")).toEqual({ customId: "job-1", ok: true, response: { status_code: 200, request_id: "msg_job-1", body: expect.objectContaining({ id: "msg_job-1" }) } });
    expect(outcomes.get("job-2")).toMatchObject({ ok: false, code: "invalid_request_error", message: "prompt is too long", retryable: false });
    expect(outcomes.has("job-3")).toBe(false);
    expect(malformed).toEqual([{ file: "results", line: 3, reason: expect.stringContaining("not JSON") }]);
    expect(outcomes.get("job-4")).toMatchObject({ ok: false, code: "provider_batch_expired", retryable: true });
    for (const s of mock.seen) {
      expect(s.headers["x-api-key"]).toBe("sk-provider-test-42");
      expect(s.headers["anthropic-version"]).toBe("2023-06-01");
    }
  });

  it("cancel reaches the provider, and the requests it never ran come back cancelled", async () => {
    mock.pollsToEnd = Infinity;
    const c = conn(mock.anthropicUrl);
    const created = await anthropicBatches.submit(c, requests(2), { endpoint: "/v1/messages" });
    expect((await anthropicBatches.cancel(c, created.id)).status).toBe("canceling");
    const ended = await anthropicBatches.get(c, created.id);
    expect(ended.ended).toBe(true);
    const { outcomes } = await anthropicBatches.results(c, ended);
    expect(outcomes.get("job-1")).toMatchObject({ ok: false, code: "provider_batch_cancelled", retryable: true });
  });

  it("never sends the key to a results_url on another origin", async () => {
    const c = conn(mock.anthropicUrl);
    const forged = { id: "msgbatch_x", status: "ended", ended: true, counts: { total: 1, succeeded: 1, failed: 0 }, expiresAt: null, raw: { results_url: "http://127.0.0.2:9/steal" } };
    const err = await rejection(anthropicBatches.results(c, forged));
    expect(String((err as Error).message)).toContain("not on http://127.0.0.1");
    expect(mock.seen).toEqual([]);
  });
});
