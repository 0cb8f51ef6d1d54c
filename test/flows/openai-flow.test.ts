// The `openai` flow: a Batch request line sent to the upstream its model routes to, the response
// kept as it came (status, request id, body), 4xx final, 429/5xx retryable with Retry-After.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { routeForModel } from "@/lib/config";
import { openai } from "@/lib/flows/openai";
import { matchRoute, parseModelRoutes, upstreamUrl } from "@/lib/openai/routes";
import { record, rejection, runFlow } from "./context";
import { startTestServer, type TestServer } from "./server";

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  // read once by lib/config (as at start-up), so set before the first request routes
  process.env.BATCHBOARD_HTTP_ALLOWLIST = "127.0.0.1";
  process.env.OPENAI_BASE_URL = `${server.url}/v1`;
  process.env.OPENAI_API_KEY = "sk-default";
  process.env.ALT_ROUTE_KEY = "sk-alt";
  process.env.BATCHBOARD_MODEL_ROUTES = [
    `alt-*=${server.url}/alt/v1;key=ALT_ROUTE_KEY;input_per_1m=2;output_per_1m=10`,
    `local-?=${server.url}/local/v1`,
    `lost-*=${server.url}/lost/v1;key=NOT_SET_ANYWHERE`,
  ].join(",");
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

const line = (body: unknown, id = "req-1") => record({ custom_id: id, method: "POST", url: "/v1/chat/completions", body }, id);
const chat = { endpoint: "/v1/chat/completions" };

describe("model routes", () => {
  it("parses entries with keys and prices, and refuses what it cannot read", () => {
    const routes = parseModelRoutes("llama3*=http://localhost:11434/v1/ , gpt-*=https://api.openai.com/v1;key=OPENAI_API_KEY;input_per_1m=2.5");
    expect(routes).toEqual([
      { pattern: "llama3*", baseUrl: "http://localhost:11434/v1", keyEnv: null, prices: { inputPer1m: 0, outputPer1m: 0 } },
      { pattern: "gpt-*", baseUrl: "https://api.openai.com/v1", keyEnv: "OPENAI_API_KEY", prices: { inputPer1m: 2.5, outputPer1m: 0 } },
    ]);
    expect(matchRoute(routes, "llama3.1:8b")?.pattern).toBe("llama3*");
    expect(matchRoute(routes, "gpt-4o")?.pattern).toBe("gpt-*");
    expect(matchRoute(routes, "mistral")).toBeUndefined();
    expect(matchRoute(routes, undefined)).toBeUndefined();
    expect(() => parseModelRoutes("nourl")).toThrow(/model-glob=base-url/);
    expect(() => parseModelRoutes("a=ftp://x")).toThrow(/http or https/);
    expect(() => parseModelRoutes("a=http://x;key=$(rm)")).toThrow(/environment variable name/);
    expect(() => parseModelRoutes("a=http://x;colour=red")).toThrow(/unknown option "colour"/);
    expect(() => parseModelRoutes("a=http://x;input_per_1m=-1")).toThrow(/>= 0/);
    expect(upstreamUrl("http://h/v1/", "/v1/chat/completions")).toBe("http://h/v1/chat/completions");
  });

  it("picks the first matching route, else OPENAI_BASE_URL with OPENAI_API_KEY", () => {
    expect(routeForModel("alt-large")).toMatchObject({ name: "alt-*", apiKey: "sk-alt", keyEnv: "ALT_ROUTE_KEY" });
    expect(routeForModel("local-1")).toMatchObject({ name: "local-?", apiKey: undefined, keyEnv: null });
    expect(routeForModel("local-12")).toMatchObject({ name: "default", apiKey: "sk-default" });
    expect(routeForModel(42)).toMatchObject({ name: "default", baseUrl: `${server.url}/v1` });
  });
});

describe("openai flow", () => {
  it("sends the line's body to the routed upstream with its key and keeps the response unchanged, with cost", async () => {
    const completion = { id: "chatcmpl-1", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: "4" } }], usage: { prompt_tokens: 1000, completion_tokens: 100 } };
    server.reply({ json: completion, headers: { "x-request-id": "req_upstream_1" } });
    const body = { model: "alt-large", messages: [{ role: "user", content: "2+2?" }] };
    const { result, harness } = await runFlow(openai, line(body), chat);
    expect(result).toEqual({ response: { status_code: 200, request_id: "req_upstream_1", body: completion } });
    expect(server.requests[0]).toMatchObject({ method: "POST", url: "/alt/v1/chat/completions" });
    expect(server.requests[0]!.headers.authorization).toBe("Bearer sk-alt");
    expect(JSON.parse(server.requests[0]!.body)).toEqual(body);
    // 1000 * 2 / 1e6 + 100 * 10 / 1e6
    expect(harness.totalCost()).toBeCloseTo(0.003, 10);
  });

  it("routes embeddings and responses to their paths; a route without a key sends none", async () => {
    server.reply({ json: { object: "list", data: [{ embedding: [0.1] }], usage: { prompt_tokens: 3 } } });
    await runFlow(openai, line({ model: "local-1", input: "hi" }), { endpoint: "/v1/embeddings" });
    expect(server.requests[0]!.url).toBe("/local/v1/embeddings");
    expect(server.requests[0]!.headers.authorization).toBeUndefined();
    await runFlow(openai, line({ model: "other", input: "hi" }), { endpoint: "/v1/responses" });
    expect(server.requests[1]!.url).toBe("/v1/responses");
    expect(server.requests[1]!.headers.authorization).toBe("Bearer sk-default");
  });

  it("fails a 4xx for good, keeping the upstream's status and error body", async () => {
    const error = { error: { message: "model not found", type: "invalid_request_error", param: "model", code: "model_not_found" } };
    server.reply({ status: 404, json: error, headers: { "x-request-id": "req_404" } });
    const err = await rejection(runFlow(openai, line({ model: "nope" }), chat));
    expect(err).toMatchObject({ code: "http_404", retryable: false, message: "model not found" });
    expect(err.result).toEqual({ response: { status_code: 404, request_id: "req_404", body: error } });
  });

  it("fails 429 and 5xx retryably, honouring Retry-After, and keeps even a body that is not JSON", async () => {
    server.reply({ status: 429, json: { error: { message: "slow down" } }, headers: { "retry-after": "3" } });
    const limited = await rejection(runFlow(openai, line({ model: "m" }), chat));
    expect(limited).toMatchObject({ code: "http_429", retryable: true, retryAfterMs: 3000 });
    server.reply({ status: 502, text: "<html>bad gateway</html>" });
    const gateway = await rejection(runFlow(openai, line({ model: "m" }), chat));
    expect(gateway).toMatchObject({ code: "http_502", retryable: true });
    const kept = (gateway.result as { response: { status_code: number; body: { error: { message: string } } } }).response;
    expect(kept.status_code).toBe(502);
    expect(kept.body.error.message).toBe("<html>bad gateway</html>");
  });

  it("refuses a record without a body object, and a route whose key variable is unset, before any call", async () => {
    expect(await rejection(runFlow(openai, record({ custom_id: "x" }), chat))).toMatchObject({ code: "invalid_request", retryable: false });
    const missing = await rejection(runFlow(openai, line({ model: "lost-1" }), chat));
    expect(missing).toMatchObject({ code: "secret_missing", retryable: false });
    expect(String(missing.message)).toContain("NOT_SET_ANYWHERE");
    expect(server.requests).toHaveLength(0);
  });

  it("only calls endpoints of the OpenAI list", async () => {
    await expect(runFlow(openai, line({ model: "m" }), { endpoint: "/v1/files" })).rejects.toMatchObject({ code: "validation_failed" });
  });
});
