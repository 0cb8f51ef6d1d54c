import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AppError } from "@/lib/errors";
import { embed } from "@/lib/flows/embed";
import { http } from "@/lib/flows/http";
import { llm } from "@/lib/flows/llm";
import { FlowError } from "@/lib/flows/types";
import { record, rejection, runFlow } from "./context";
import { startTestServer, type TestServer } from "./server";

let server: TestServer;
const savedAllowlist = process.env.BATCHBOARD_HTTP_ALLOWLIST;
const savedSecrets = process.env.BATCHBOARD_FLOW_SECRETS;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  // the test server is on loopback, which is refused unless listed
  process.env.BATCHBOARD_HTTP_ALLOWLIST = "127.0.0.1";
  // flows read only the variables the operator lists
  process.env.BATCHBOARD_FLOW_SECRETS = "TEST_API_TOKEN";
  server.requests.length = 0;
});
afterEach(() => {
  if (savedAllowlist === undefined) delete process.env.BATCHBOARD_HTTP_ALLOWLIST;
  else process.env.BATCHBOARD_HTTP_ALLOWLIST = savedAllowlist;
  if (savedSecrets === undefined) delete process.env.BATCHBOARD_FLOW_SECRETS;
  else process.env.BATCHBOARD_FLOW_SECRETS = savedSecrets;
  delete process.env.TEST_API_TOKEN;
});

describe("http flow", () => {
  it("templates the URL and body, sends env-referenced secrets, and returns the JSON response", async () => {
    process.env.TEST_API_TOKEN = "s3cret";
    server.reply({ json: { ok: true, echoed: 1 } });
    const params = {
      url: `${server.url}/items/{{record.sku}}?q={{record.name}}`,
      method: "PUT",
      headers: { Authorization: { env: "TEST_API_TOKEN", prefix: "Bearer " }, "X-Static": "yes" },
      body_template: { name: "{{record.name}}", tags: "{{record.tags}}", line: "sku={{record.sku}}" },
    };
    const { result } = await runFlow(http, record({ sku: "a/b", name: "x y&z", tags: ["t1", "t2"] }), params);
    expect(result).toEqual({ ok: true, echoed: 1 });
    const req = server.requests[0]!;
    expect(req.method).toBe("PUT");
    expect(req.url).toBe("/items/a%2Fb?q=x%20y%26z");
    expect(req.headers.authorization).toBe("Bearer s3cret");
    expect(req.headers["x-static"]).toBe("yes");
    expect(JSON.parse(req.body)).toEqual({ name: "x y&z", tags: ["t1", "t2"], line: "sku=a/b" });
  });

  it("sends the record itself when there is no body template", async () => {
    server.reply({ json: { received: true } });
    await runFlow(http, record({ a: 1 }), { url: `${server.url}/hook` });
    expect(JSON.parse(server.requests[0]!.body)).toEqual({ a: 1 });
  });

  it("replays an OpenAI batch input line with body_template {{record.body}}", async () => {
    server.reply({ json: { id: "chatcmpl-1" } });
    const line = { custom_id: "req-1", method: "POST", url: "/v1/chat/completions", body: { model: "m", messages: [{ role: "user", content: "Hi" }] } };
    await runFlow(http, record(line, "req-1"), { url: `${server.url}/v1/chat/completions`, body_template: "{{record.body}}" });
    expect(JSON.parse(server.requests[0]!.body)).toEqual(line.body);
  });

  it("treats 429 as retryable with Retry-After, and a 500 followed by a success as recoverable", async () => {
    server.reply({ status: 429, headers: { "retry-after": "7" }, json: { error: "slow down" } });
    const limited = await rejection(runFlow(http, record({}), { url: server.url }));
    expect(limited).toBeInstanceOf(FlowError);
    expect(limited).toMatchObject({ code: "http_429", retryable: true, retryAfterMs: 7000 });

    server.reply({ status: 500, text: "boom" }, { json: { second: "try" } });
    const failed = await rejection(runFlow(http, record({}), { url: server.url }));
    expect(failed).toMatchObject({ code: "http_500", retryable: true });
    expect(failed.message).toContain("boom");
    const { result } = await runFlow(http, record({}), { url: server.url });
    expect(result).toEqual({ second: "try" });
  });

  it("fails other 4xx for good", async () => {
    server.reply({ status: 404, json: { error: "no such thing" } });
    const err = await rejection(runFlow(http, record({}), { url: server.url }));
    expect(err).toMatchObject({ code: "http_404", retryable: false });
  });

  it("times out as a retryable error", async () => {
    server.reply("hang");
    const err = await rejection(runFlow(http, record({}), { url: server.url, timeout_ms: 200 }));
    expect(err).toMatchObject({ code: "timeout", retryable: true });
  });

  it("rejects with the job's abort reason when cancelled mid-request", async () => {
    server.reply("hang");
    const { createTestContext } = await import("./context");
    const params = http.parameters.parse({ url: server.url, timeout_ms: 600_000 });
    const h = createTestContext(params);
    const running = http.run(record({}), h.ctx);
    // wait until the request has reached the server, then cancel
    while (server.requests.length === 0) await new Promise((r) => setImmediate(r));
    const reason = new Error("batch cancelled");
    h.abort(reason);
    expect(await rejection(running)).toBe(reason);
  });

  it("names a malformed JSON response clearly", async () => {
    server.reply({ text: "<html>not json</html>" });
    const err = await rejection(runFlow(http, record({}), { url: server.url }));
    expect(err).toMatchObject({ code: "invalid_response", retryable: false });
    expect(err.message).toMatch(/not JSON.*<html>not json/);
  });

  it("fails for good when a template names a missing field or a secret is unset", async () => {
    const missing = await rejection(runFlow(http, record({ a: 1 }), { url: `${server.url}/{{record.nope}}` }));
    expect(missing).toMatchObject({ code: "template_field_missing", retryable: false });
    expect(missing.message).toContain("nope");
    const secret = await rejection(runFlow(http, record({}), { url: server.url, headers: { A: { env: "TEST_API_TOKEN" } } }));
    expect(secret).toMatchObject({ code: "secret_missing", retryable: false });
    expect(server.requests).toHaveLength(0);
  });

  it("refuses private addresses unless allowlisted, and hosts off the allowlist", async () => {
    delete process.env.BATCHBOARD_HTTP_ALLOWLIST;
    const priv = await rejection(runFlow(http, record({}), { url: server.url }));
    expect(priv).toMatchObject({ code: "url_not_allowed", retryable: false });
    expect(priv.message).toContain("private address");
    process.env.BATCHBOARD_HTTP_ALLOWLIST = "api.example.com";
    const off = await rejection(runFlow(http, record({}), { url: server.url }));
    expect(off.message).toContain("not in BATCHBOARD_HTTP_ALLOWLIST");
    expect(server.requests).toHaveLength(0);
  });

  it("validates parameters at batch creation with field paths", async () => {
    const err = await rejection(runFlow(http, record({}), { url: "ftp://x", method: "BREW" }));
    expect(err).toBeInstanceOf(AppError);
    const paths = (err as unknown as AppError).details.map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(["parameters.url", "parameters.method"]));
  });
});

const completion = (content: string, usage = { prompt_tokens: 1200, completion_tokens: 300, total_tokens: 1500 }) => ({
  id: "chatcmpl-1",
  model: "test-model-2024",
  choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
  usage,
});

describe("llm flow", () => {
  const base = () => ({ base_url: `${server.url}/v1`, model: "test-model", prices: { input_per_1m: 2.5, output_per_1m: 10 } });

  it("sends templated prompts and reports cost from token usage", async () => {
    process.env.TEST_API_TOKEN = "sk-test";
    server.reply({ json: completion("Positive.") });
    const { result, harness } = await runFlow(llm, record({ text: "Great!", stars: 5 }), {
      ...base(),
      api_key_env: "TEST_API_TOKEN",
      system_prompt: "You label reviews.",
      user_prompt: "Review ({{record.stars}} stars): {{record.text}}\nAll: {{record}}",
      temperature: 0,
      max_tokens: 20,
    });
    expect(result).toEqual({
      content: "Positive.",
      usage: { prompt_tokens: 1200, completion_tokens: 300, total_tokens: 1500 },
      model: "test-model-2024",
      // the completion as it came, for the openai export
      response: { status_code: 200, request_id: "req_batch_test_0", body: completion("Positive.") },
    });
    // 1200 * 2.5 / 1e6 + 300 * 10 / 1e6
    expect(harness.totalCost()).toBeCloseTo(0.006, 10);
    // and the tokens, for a rate limit's token bucket; its estimate: the prompts / 4 + max_tokens
    expect(harness.usage).toEqual([{ input_tokens: 1200, output_tokens: 300 }]);
    const params = llm.parameters.parse({ ...base(), system_prompt: "abcd", user_prompt: "{{record.text}}", max_tokens: 20 });
    expect(llm.estimateTokens!(params, record({ text: "12345678" }))).toBe(1 + 2 + 20);
    const req = server.requests[0]!;
    expect(req.url).toBe("/v1/chat/completions");
    expect(req.headers.authorization).toBe("Bearer sk-test");
    expect(JSON.parse(req.body)).toEqual({
      model: "test-model",
      temperature: 0,
      max_tokens: 20,
      messages: [
        { role: "system", content: "You label reviews." },
        { role: "user", content: 'Review (5 stars): Great!\nAll: {"text":"Great!","stars":5}' },
      ],
    });
  });

  it("asks for JSON-schema output and returns it parsed", async () => {
    server.reply({ json: completion('{"label":"positive","confidence":0.9}') });
    const schema = { type: "object", properties: { label: { type: "string" } }, required: ["label"] };
    const { result } = await runFlow(llm, record({ text: "x" }), {
      ...base(),
      user_prompt: "{{record.text}}",
      response_format: { type: "json_schema", name: "label", schema },
    });
    expect(result).toMatchObject({ parsed: { label: "positive", confidence: 0.9 } });
    expect(JSON.parse(server.requests[0]!.body).response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "label", schema, strict: true },
    });
  });

  it("charges for tokens even when the structured answer is not JSON, and lets a retry try again", async () => {
    server.reply({ json: completion("Sure! here it is: {label: positive}") });
    const { createTestContext } = await import("./context");
    const params = llm.parameters.parse({ ...base(), response_format: { type: "json_object" } });
    const h = createTestContext(params);
    const err = await rejection(llm.run(record({ text: "x" }), h.ctx));
    expect(err).toMatchObject({ code: "invalid_model_output", retryable: true });
    expect(h.totalCost()).toBeGreaterThan(0);
  });

  it("honours 429 Retry-After, retries a 500, and recovers on the next call", async () => {
    server.reply(
      { status: 429, headers: { "retry-after": "2" }, json: { error: { message: "rate limited" } } },
      { status: 503, json: { error: { message: "overloaded" } } },
      { json: completion("ok") },
    );
    const first = await rejection(runFlow(llm, record({}), base()));
    expect(first).toMatchObject({ code: "http_429", retryable: true, retryAfterMs: 2000, rateLimited: true });
    const second = await rejection(runFlow(llm, record({}), base()));
    expect(second).toMatchObject({ code: "http_503", retryable: true, rateLimited: false });
    const { result, harness } = await runFlow(llm, record({}), base());
    expect(result).toMatchObject({ content: "ok" });
    expect(harness.costs).toHaveLength(1);
  });

  it("times out, and refuses a malformed response", async () => {
    server.reply("hang");
    expect(await rejection(runFlow(llm, record({}), { ...base(), timeout_ms: 200 }))).toMatchObject({ code: "timeout" });
    server.reply({ text: "{ truncated" });
    expect(await rejection(runFlow(llm, record({}), base()))).toMatchObject({ code: "invalid_response", retryable: false });
    server.reply({ json: { object: "chat.completion", choices: [] } });
    const noChoices = await rejection(runFlow(llm, record({}), base()));
    expect(noChoices).toMatchObject({ code: "invalid_response" });
    expect(noChoices.message).toContain("choices[0]");
  });
});

describe("embed flow", () => {
  const base = () => ({ base_url: `${server.url}/v1/`, model: "embed-small", prices: { input_per_1m: 0.02 } });

  it("embeds the templated input and reports cost from usage", async () => {
    server.reply({ json: { object: "list", model: "embed-small-v3", data: [{ index: 0, embedding: [0.1, -0.2, 0.3] }], usage: { prompt_tokens: 500_000, total_tokens: 500_000 } } });
    const { result, harness } = await runFlow(embed, record({ text: "hello", title: "T" }), { ...base(), input: "{{record.title}}: {{record.text}}", dimensions: 3 });
    expect(result).toEqual({ embedding: [0.1, -0.2, 0.3], dimensions: 3, usage: { prompt_tokens: 500_000, total_tokens: 500_000 }, model: "embed-small-v3" });
    expect(harness.totalCost()).toBeCloseTo(0.01, 10);
    expect(harness.usage).toEqual([{ input_tokens: 500_000, output_tokens: 0 }]);
    expect(server.requests[0]!.url).toBe("/v1/embeddings");
    expect(JSON.parse(server.requests[0]!.body)).toEqual({ model: "embed-small", input: "T: hello", dimensions: 3 });
  });

  it("handles 429 with Retry-After as an HTTP date, 500 then success, timeouts and malformed bodies", async () => {
    const at = new Date(Date.now() + 60_000).toUTCString();
    server.reply(
      { status: 429, headers: { "retry-after": at }, json: {} },
      { status: 500, json: {} },
      { json: { data: [{ embedding: [1] }], usage: { prompt_tokens: 3 } } },
    );
    const limited = await rejection(runFlow(embed, record({ text: "x" }), base()));
    expect(limited).toMatchObject({ code: "http_429", retryable: true });
    expect(limited.retryAfterMs).toBeGreaterThan(1000);
    expect(await rejection(runFlow(embed, record({ text: "x" }), base()))).toMatchObject({ code: "http_500", retryable: true });
    expect((await runFlow(embed, record({ text: "x" }), base())).result).toMatchObject({ embedding: [1] });

    server.reply("hang");
    expect(await rejection(runFlow(embed, record({ text: "x" }), { ...base(), timeout_ms: 200 }))).toMatchObject({ code: "timeout" });
    server.reply({ text: "oops" });
    expect(await rejection(runFlow(embed, record({ text: "x" }), base()))).toMatchObject({ code: "invalid_response" });
    server.reply({ json: { data: [{ embedding: "nope" }] } });
    expect(await rejection(runFlow(embed, record({ text: "x" }), base()))).toMatchObject({ code: "invalid_response" });
  });

  it("fails for good when the input field is missing", async () => {
    expect(await rejection(runFlow(embed, record({ body: "x" }), base()))).toMatchObject({ code: "template_field_missing", retryable: false });
  });
});
