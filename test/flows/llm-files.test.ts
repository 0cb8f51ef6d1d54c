// The llm flow with files: true: each record's file, read from the dataset's stored bytes, goes to an
// OpenAI-compatible chat API as the part it takes (text inline, image_url data URL, file part for PDFs),
// citations the provider returns are kept, and what cannot be sent is refused at creation or per record.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getBatch, streamResults } from "@/lib/engine";
import { startWorker } from "@/lib/worker/worker";
import { llm } from "@/lib/flows/llm";
import { parseFlowParameters } from "@/lib/flows/registry";
import type { FlowDefinition } from "@/lib/flows/types";
import { waitFor } from "@/test/support/wait";
import { useTestDatabase } from "../helpers/db";
import { call } from "../security/call";
import { createTestContext, rejection } from "./context";
import { PDF, PNG, records, schema, TEXT, uploadFiles } from "./files-fixtures";
import { startTestServer, type TestServer } from "./server";

process.env.BATCHBOARD_AUTH = "off";
process.env.BATCHBOARD_HTTP_ALLOWLIST = "127.0.0.1";
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

const completion = (content: string, extra: Record<string, unknown> = {}, message: Record<string, unknown> = {}) => ({
  id: "chatcmpl-1",
  object: "chat.completion",
  model: "m",
  choices: [{ index: 0, message: { role: "assistant", content, ...message }, finish_reason: "stop" }],
  usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 },
  ...extra,
});

const params = (extra: Record<string, unknown> = {}) => ({
  base_url: `${server.url}/v1`,
  model: "m",
  files: true,
  user_prompt: "Extract the invoice in {{record.filename}}.",
  response_format: { type: "json_schema", name: "invoice", schema },
  ...extra,
});

async function createBatch(dataset: string, parameters: Record<string, unknown>) {
  return call("POST", "/api/batches", { body: { flow: "llm", dataset, parameters, shuffle: false } });
}

describe("llm with files: true", () => {
  it("sends each file as the part its type takes, after the prompt", async () => {
    await uploadFiles("mixed", [
      { name: "docs/inv.pdf", data: PDF },
      { name: "docs/scan.png", data: PNG },
      { name: "docs/note.txt", data: TEXT, type: "text/plain" },
    ]);
    const created = await createBatch("mixed", params());
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const parsed = parseFlowParameters(llm as unknown as FlowDefinition, params()) as Parameters<typeof llm.run>[1]["params"];
    server.reply({ json: completion('{"vendor":"Acme"}') });
    const sent = [];
    for (const rec of await records("mixed")) {
      const result = await llm.run(rec, createTestContext(parsed, { batchId: created.json.id }).ctx);
      expect(result).toMatchObject({ parsed: { vendor: "Acme" } });
      sent.push(JSON.parse(server.requests.at(-1)!.body));
    }
    const b64 = (b: Buffer) => b.toString("base64");
    expect(sent.map((body) => body.messages)).toEqual([
      [
        {
          role: "user",
          content: [
            { type: "text", text: "Extract the invoice in inv.pdf." },
            { type: "file", file: { filename: "inv.pdf", file_data: `data:application/pdf;base64,${b64(PDF)}` } },
          ],
        },
      ],
      [
        {
          role: "user",
          content: [
            { type: "text", text: "Extract the invoice in scan.png." },
            { type: "image_url", image_url: { url: `data:image/png;base64,${b64(PNG)}` } },
          ],
        },
      ],
      [
        {
          role: "user",
          content: [
            { type: "text", text: "Extract the invoice in note.txt." },
            { type: "text", text: `File docs/note.txt:\n\n${TEXT.toString()}` },
          ],
        },
      ],
    ]);
    expect(sent[0].response_format).toEqual({ type: "json_schema", json_schema: { name: "invoice", schema, strict: true } });
  });

  it("keeps the provider's citations in each stored result, run by the engine", async () => {
    await uploadFiles("cited", [{ name: "a.pdf", data: PDF }]);
    const annotation = { type: "url_citation", url_citation: { url: "https://example.com/a", title: "A", start_index: 0, end_index: 4 } };
    server.reply({ json: completion('{"vendor":"Acme"}', { citations: ["https://example.com/b"] }, { annotations: [annotation] }) });
    const created = await createBatch("cited", params());
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const worker = await startWorker({ mode: "in-process", concurrency: 2, pollMs: 50, maintenanceMs: 200 });
    try {
      await waitFor("the batch to finish", async () => (await getBatch(created.json.id)).status === "completed");
    } finally {
      await worker.stop(1000);
    }
    const rows = [];
    for await (const r of streamResults(created.json.id)) rows.push(r);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.result).toMatchObject({
      parsed: { vendor: "Acme" },
      citations: [annotation, { type: "url", url: "https://example.com/b" }],
    });
  });

  it("files each citation under the answer's fields it supports (field_citations)", async () => {
    const { id } = await uploadFiles("field-cited", [{ name: "f.pdf", data: PDF }]);
    const created = await createBatch("field-cited", params());
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const content = '{"vendor":"Acme","total":12.5}';
    const at = content.indexOf('"Acme"');
    const onVendor = { type: "url_citation", url_citation: { url: "https://example.com/v", title: "V", start_index: at, end_index: at + 6 } };
    server.reply({ json: completion(content, { citations: ["https://example.com/unplaced"] }, { annotations: [onVendor] }) });
    const parsed = parseFlowParameters(llm as unknown as FlowDefinition, params()) as Parameters<typeof llm.run>[1]["params"];
    const [rec] = await records(id);
    const result = await llm.run(rec!, createTestContext(parsed, { batchId: created.json.id }).ctx);
    expect(result).toMatchObject({
      parsed: { vendor: "Acme", total: 12.5 },
      citations: [onVendor, { type: "url", url: "https://example.com/unplaced" }],
      field_citations: { vendor: [onVendor] },
    });
  });

  it("refuses at creation a source without files, naming parameters.files", async () => {
    const csvForm = new FormData();
    csvForm.append("file", new Blob(["id,text\n1,a\n"]), "rows.csv");
    const req = new Request("http://localhost/", { method: "POST", body: csvForm });
    const csv = await call("POST", "/api/datasets", {
      query: "name=rows",
      headers: { "content-type": req.headers.get("content-type")! },
      rawBody: Buffer.from(await req.arrayBuffer()) as unknown as string,
    });
    expect(csv.status).toBe(201);
    const onRows = await createBatch("rows", params());
    expect(onRows.status).toBe(422);
    expect(onRows.json.error.details).toEqual([{ path: "parameters.files", message: expect.stringContaining('"rows" holds csv records') }]);
    const inline = await call("POST", "/api/batches", { body: { flow: "llm", records: [{ id: "1" }], parameters: params() } });
    expect(inline.status).toBe(422);
    expect(inline.json.error.details[0].path).toBe("parameters.files");
    // the same parameters without files: true are fine on rows
    expect((await createBatch("rows", params({ files: false }))).status).toBe(201);
  });

  it("refuses at creation a dataset holding a file no model can take, naming the file", async () => {
    await uploadFiles("binaries", [
      { name: "ok.pdf", data: PDF },
      { name: "blob.bin", data: Buffer.from([0, 1, 2, 3]), type: "application/octet-stream" },
    ]);
    const res = await createBatch("binaries", params());
    expect(res.status).toBe(422);
    expect(res.json.error.details).toEqual([{ path: "parameters.files", message: 'file "blob.bin" is application/octet-stream, which cannot be sent to a model' }]);
    expect(res.json.error.message).toContain("PDF");
  });

  it("fails a record whose file is over max_file_bytes or of an unknown type, naming the file, without a call", async () => {
    const { id } = await uploadFiles("sizes", [{ name: "big.txt", data: Buffer.alloc(2048, 97), type: "text/plain" }]);
    const created = await createBatch("sizes", params({ max_file_bytes: 1024 }));
    expect(created.status).toBe(201);
    const parsed = parseFlowParameters(llm as unknown as FlowDefinition, params({ max_file_bytes: 1024 })) as Parameters<typeof llm.run>[1]["params"];
    const ctx = createTestContext(parsed, { batchId: created.json.id }).ctx;
    const [rec] = await records(id);
    expect(await rejection(llm.run(rec!, ctx))).toMatchObject({ code: "file_too_large", retryable: false, message: expect.stringContaining('"big.txt"') });
    // a record claiming a smaller size is still cut off as it is read
    const lying = { ...rec!, data: { ...(rec!.data as object), bytes: 10 } };
    expect(await rejection(llm.run(lying, ctx))).toMatchObject({ code: "file_too_large", message: expect.stringContaining('"big.txt"') });
    const odd = { ...rec!, data: { ...(rec!.data as object), content_type: "application/x-msdownload" } };
    expect(await rejection(llm.run(odd, ctx))).toMatchObject({ code: "unsupported_file_type", message: expect.stringContaining('"big.txt" is application/x-msdownload') });
    expect(await rejection(llm.run({ id: "r", data: { text: "x" }, position: 0 }, ctx))).toMatchObject({ code: "not_a_file" });
    expect(server.requests).toHaveLength(0);
  });
});
