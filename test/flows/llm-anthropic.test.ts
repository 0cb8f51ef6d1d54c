// The llm flow with provider: "anthropic": Anthropic's Messages API shapes (x-api-key and
// anthropic-version headers, max_tokens always, files as document and image blocks, a JSON schema as
// one forced tool, citations from text blocks), against a local server standing in for the provider.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getBatch, streamResults } from "@/lib/engine";
import { llm } from "@/lib/flows/llm";
import { parseFlowParameters } from "@/lib/flows/registry";
import type { FlowDefinition, FlowRecord } from "@/lib/flows/types";
import { startWorker } from "@/lib/worker/worker";
import { waitFor } from "@/test/support/wait";
import { useTestDatabase } from "../helpers/db";
import { call } from "../security/call";
import { createTestContext, rejection } from "./context";
import { PDF, PNG, records, schema, TEXT, uploadFiles } from "./files-fixtures";
import { startTestServer, type TestServer } from "./server";

process.env.BATCHBOARD_AUTH = "off";
process.env.BATCHBOARD_HTTP_ALLOWLIST = "127.0.0.1";
process.env.BATCHBOARD_FLOW_SECRETS = "ANTHROPIC_TEST_KEY";
process.env.ANTHROPIC_TEST_KEY = "sk-ant-test-123456";
useTestDatabase();


let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

const message = (content: unknown[], usage: Record<string, number> | null = { input_tokens: 1000, output_tokens: 100 }) => ({
  id: "msg_1",
  type: "message",
  role: "assistant",
  model: "claude-test",
  content,
  stop_reason: "end_turn",
  ...(usage ? { usage } : {}),
});

const base = (extra: Record<string, unknown> = {}) => ({
  provider: "anthropic",
  base_url: `${server.url}/v1`,
  model: "claude-test",
  api_key_env: "ANTHROPIC_TEST_KEY",
  ...extra,
});
type LlmParams = Parameters<typeof llm.run>[1]["params"];
const parse = (p: Record<string, unknown>) => parseFlowParameters(llm as unknown as FlowDefinition, p) as LlmParams;
const record: FlowRecord = { id: "t1", data: { id: "t1", text: "The parcel arrived broken." }, position: 0 };

describe("llm with provider anthropic", () => {
  it("calls /messages with the key, the version, max_tokens and the system prompt; answers, usage and cost as for openai", async () => {
    server.reply({ json: message([{ type: "text", text: "negative" }]) });
    const h = createTestContext(parse(base({ system_prompt: "Classify.", user_prompt: "{{record.text}}", temperature: 0.2, prices: { input_per_1m: 3, output_per_1m: 15 } })));
    const result = await llm.run(record, h.ctx);
    const seen = server.requests[0]!;
    expect(seen.url).toBe("/v1/messages");
    expect(seen.headers["x-api-key"]).toBe("sk-ant-test-123456");
    expect(seen.headers["anthropic-version"]).toBe("2023-06-01");
    expect(seen.headers.authorization).toBeUndefined();
    expect(JSON.parse(seen.body)).toEqual({
      model: "claude-test",
      max_tokens: 4096,
      system: "Classify.",
      temperature: 0.2,
      messages: [{ role: "user", content: "The parcel arrived broken." }],
    });
    expect(result).toMatchObject({ content: "negative", model: "claude-test", usage: { prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 } });
    expect(h.totalCost()).toBeCloseTo((1000 * 3 + 100 * 15) / 1_000_000);
  });

  it("asks for a JSON schema as one forced tool, and takes the tool's input as the answer", async () => {
    server.reply({ json: message([{ type: "tool_use", id: "tu_1", name: "invoice", input: { vendor: "Acme" } }]) });
    const result = await llm.run(record, createTestContext(parse(base({ response_format: { type: "json_schema", name: "invoice", schema } }))).ctx);
    const sent = JSON.parse(server.requests[0]!.body);
    expect(sent.tools).toEqual([{ name: "invoice", description: expect.any(String), input_schema: schema }]);
    expect(sent.tool_choice).toEqual({ type: "tool", name: "invoice" });
    expect(result).toMatchObject({ parsed: { vendor: "Acme" }, content: '{"vendor":"Acme"}' });

    // an answer in prose instead of the tool is a retryable model error, not a result
    server.reply({ json: { ...message([{ type: "text", text: "The vendor is Acme." }]), stop_reason: "max_tokens" } });
    expect(await rejection(llm.run(record, createTestContext(parse(base({ response_format: { type: "json_schema", name: "invoice", schema } }))).ctx))).toMatchObject({
      code: "invalid_model_output",
      retryable: true,
      message: expect.stringContaining("max_tokens"),
    });
  });

  it("sends each file as a document or image block after the prompt, and keeps the citations of the answer", async () => {
    const { id } = await uploadFiles("anthropic-mixed", [
      { name: "inv.pdf", data: PDF },
      { name: "scan.png", data: PNG },
      { name: "note.txt", data: TEXT, type: "text/plain" },
    ]);
    const created = await call("POST", "/api/batches", { body: { flow: "llm", dataset: id, parameters: base({ files: true, citations: true, user_prompt: "Who sent {{record.filename}}?" }) } });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const citation = { type: "page_location", cited_text: "Acme", document_index: 0, document_title: "inv.pdf", start_page_number: 1, end_page_number: 2 };
    server.reply({ json: message([{ type: "text", text: "Acme" , citations: [citation] }, { type: "text", text: " sent it." }]) });
    const params = parse(base({ files: true, citations: true, user_prompt: "Who sent {{record.filename}}?" }));
    const sent = [];
    const results = [];
    for (const rec of await records(id)) {
      results.push(await llm.run(rec, createTestContext(params, { batchId: created.json.id }).ctx));
      sent.push(JSON.parse(server.requests.at(-1)!.body).messages[0].content);
    }
    expect(sent).toEqual([
      [
        { type: "text", text: "Who sent inv.pdf?" },
        { type: "document", source: { type: "base64", media_type: "application/pdf", data: PDF.toString("base64") }, title: "inv.pdf", citations: { enabled: true } },
      ],
      [
        { type: "text", text: "Who sent scan.png?" },
        { type: "image", source: { type: "base64", media_type: "image/png", data: PNG.toString("base64") } },
      ],
      [
        { type: "text", text: "Who sent note.txt?" },
        { type: "document", source: { type: "text", media_type: "text/plain", data: TEXT.toString() }, title: "note.txt", citations: { enabled: true } },
      ],
    ]);
    expect(results[0]).toMatchObject({ content: "Acme sent it.", citations: [citation] });
  });

  it("a 429 is retried after the provider's Retry-After; an overloaded 529 is retried too", async () => {
    server.reply({ status: 429, headers: { "retry-after": "7" }, json: { type: "error", error: { type: "rate_limit_error", message: "slow down" } } });
    expect(await rejection(llm.run(record, createTestContext(parse(base())).ctx))).toMatchObject({ code: "http_429", retryable: true, retryAfterMs: 7000 });
    server.reply({ status: 529, json: { type: "error", error: { type: "overloaded_error", message: "busy" } } });
    expect(await rejection(llm.run(record, createTestContext(parse(base())).ctx))).toMatchObject({ code: "http_529", retryable: true });
  });

  it("refuses at creation what Anthropic cannot do, naming the parameter", async () => {
    const create = (parameters: Record<string, unknown>) => call("POST", "/api/batches", { body: { flow: "llm", records: [{ id: "1" }], parameters } });
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [base({ response_format: { type: "json_object" } }), "parameters.response_format", /no JSON mode/],
      [{ ...base(), provider: "openai", citations: true }, "parameters.citations", /provider anthropic only/],
      [base({ citations: true }), "parameters.citations", /need files: true/],
    ];
    for (const [parameters, path, message] of cases) {
      const res = await create(parameters);
      expect(res.status, JSON.stringify(res.json)).toBe(422);
      expect(res.json.error.details).toContainEqual({ path, message: expect.stringMatching(message) });
    }
    const { id } = await uploadFiles("anthropic-cite-schema", [{ name: "a.pdf", data: PDF }]);
    const both = await call("POST", "/api/batches", {
      body: { flow: "llm", dataset: id, parameters: base({ files: true, citations: true, response_format: { type: "json_schema", name: "x", schema } }) },
    });
    expect(both.status).toBe(422);
    expect(both.json.error.details).toContainEqual({ path: "parameters.citations", message: expect.stringMatching(/does not cite in a structured/) });
  });

  it("runs a batch of PDFs through the engine and keeps each result with its citations", async () => {
    const { id } = await uploadFiles("anthropic-engine", [{ name: "a.pdf", data: PDF }, { name: "b.pdf", data: PDF }]);
    const citation = { type: "page_location", cited_text: "Acme", document_index: 0, start_page_number: 1, end_page_number: 2 };
    server.reply({ json: message([{ type: "text", text: "Acme", citations: [citation] }]) });
    const created = await call("POST", "/api/batches", { body: { flow: "llm", dataset: id, parameters: base({ files: true, citations: true }), shuffle: false } });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const worker = await startWorker({ mode: "in-process", concurrency: 2, pollMs: 50, maintenanceMs: 200 });
    try {
      await waitFor("the batch to finish", async () => (await getBatch(created.json.id)).status === "completed");
    } finally {
      await worker.stop(1000);
    }
    const rows = [];
    for await (const r of streamResults(created.json.id)) rows.push(r);
    expect(rows.map((r) => r.result)).toEqual([
      expect.objectContaining({ content: "Acme", citations: [citation] }),
      expect.objectContaining({ content: "Acme", citations: [citation] }),
    ]);
    expect(server.requests.every((r) => r.url === "/v1/messages")).toBe(true);
  });
});
