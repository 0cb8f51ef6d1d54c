// The OpenAI-compatible Batch API driven by the official `openai` SDK against the built app, with a
// small OpenAI-compatible upstream on 127.0.0.1 standing in for the model server.
import { expect, test } from "@playwright/test";
import OpenAI, { toFile } from "openai";
import { AUTH_PORT, E2E_ADMIN_TOKEN, OPENAI_MOCK_KEYS, OPENAI_MOCK_PORT } from "../../playwright.config";
import { startOpenAIMock, type OpenAIMock } from "../../test/support/openai-mock";
import { waitUntil } from "../fixtures";

type Batch = OpenAI.Batches.Batch;
interface OutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: Record<string, unknown> } | null;
  error: { code: string; message: string } | null;
}

let mock: OpenAIMock;
let client: OpenAI;
let base: string;

test.beforeAll(async ({ baseURL }) => {
  mock = await startOpenAIMock({ port: OPENAI_MOCK_PORT, keys: { "/v1/": OPENAI_MOCK_KEYS.default, "/emb/v1/": OPENAI_MOCK_KEYS.embeddings } });
  base = baseURL!;
  // authentication is off on this server: any key will do; the SDK's own retries off, so every answer is seen
  client = new OpenAI({ baseURL: `${base}/v1`, apiKey: "bb-e2e", maxRetries: 0 });
});
test.afterAll(async () => {
  await mock?.close();
});

const line = (customId: string, body: Record<string, unknown>, url = "/v1/chat/completions") => JSON.stringify({ custom_id: customId, method: "POST", url, body });
const chat = (model: string, content: string) => ({ model, messages: [{ role: "user", content }] });
const jsonl = (...lines: string[]) => `${lines.join("\n")}\n`;

async function upload(text: string, name = "requests.jsonl") {
  return client.files.create({ file: await toFile(Buffer.from(text), name), purpose: "batch" });
}

async function waitFor(id: string, statuses: Batch["status"][]): Promise<Batch> {
  return waitUntil(async () => {
    const b = await client.batches.retrieve(id);
    return statuses.includes(b.status) ? b : undefined;
  }, `batch ${id} to be ${statuses.join("|")}`);
}

async function lines(fileId: string): Promise<OutputLine[]> {
  const text = await (await client.files.content(fileId)).text();
  expect(text.endsWith("\n")).toBe(true);
  return text.trimEnd().split("\n").map((l) => JSON.parse(l) as OutputLine);
}

test.describe("the OpenAI SDK against /v1", () => {
  test("uploads JSONL, runs a chat and an embeddings batch, and reads every output and error line", async () => {
    const chatFile = await upload(jsonl(line("c1", chat("gpt-e2e", "first")), line("c2", chat("reject", "second")), line("c3", chat("gpt-e2e", "third"))), "chat.jsonl");
    expect(chatFile).toMatchObject({ object: "file", purpose: "batch", filename: "chat.jsonl", status: "processed" });
    const embFile = await upload(jsonl(line("e1", { model: "e2e-emb-small", input: "cat" }, "/v1/embeddings"), line("e2", { model: "e2e-emb-small", input: "a dog" }, "/v1/embeddings")));

    const chatBatch = await client.batches.create({
      input_file_id: chatFile.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
      metadata: { suite: "e2e" },
    });
    expect(chatBatch).toMatchObject({ object: "batch", status: "in_progress", input_file_id: chatFile.id, metadata: { suite: "e2e" } });
    const embBatch = await client.batches.create({ input_file_id: embFile.id, endpoint: "/v1/embeddings", completion_window: "24h" });

    const chatDone = await waitFor(chatBatch.id, ["completed"]);
    expect(chatDone.request_counts).toEqual({ total: 3, completed: 2, failed: 1 });
    const out = await lines(chatDone.output_file_id!);
    expect(out.map((l) => l.custom_id)).toEqual(["c1", "c3"]);
    for (const l of out) {
      expect(l.error).toBeNull();
      expect(l.response!.status_code).toBe(200);
      expect(l.response!.request_id).toMatch(/^req_mock_/);
      expect(l.response!.body).toMatchObject({ object: "chat.completion", model: "gpt-e2e", usage: { total_tokens: 15 } });
    }
    expect((out[0]!.response!.body.choices as { message: { content: string } }[])[0]!.message.content).toBe("echo: first");
    const errors = await lines(chatDone.error_file_id!);
    expect(errors).toEqual([
      expect.objectContaining({
        custom_id: "c2",
        error: null,
        response: expect.objectContaining({ status_code: 400, body: { error: expect.objectContaining({ code: "model_not_found" }) } }),
      }),
    ]);
    const outFile = await client.files.retrieve(chatDone.output_file_id!);
    expect(outFile.purpose).toBe("batch_output");
    expect(outFile.bytes).toBe(Buffer.byteLength(await (await client.files.content(outFile.id)).text()));

    const embDone = await waitFor(embBatch.id, ["completed"]);
    expect(embDone).toMatchObject({ request_counts: { total: 2, completed: 2, failed: 0 }, error_file_id: null, model: "e2e-emb-small" });
    const embeddings = await lines(embDone.output_file_id!);
    for (const l of embeddings) expect((l.response!.body.data as { embedding: number[] }[])[0]!.embedding).toHaveLength(4);
    // the route for e2e-emb-* sent its own key to its own upstream
    const sent = mock.requests.filter((r) => r.path === "/emb/v1/embeddings");
    expect(sent.map((r) => r.authorization)).toEqual([`Bearer ${OPENAI_MOCK_KEYS.embeddings}`, `Bearer ${OPENAI_MOCK_KEYS.embeddings}`]);
    expect(mock.requests.find((r) => r.path === "/v1/chat/completions")!.authorization).toBe(`Bearer ${OPENAI_MOCK_KEYS.default}`);
  });

  test("a /v1 batch is an ordinary batch: in the API the dashboard uses, with custom_id as record id and cost", async ({ request }) => {
    const file = await upload(jsonl(line("ord-1", { model: "e2e-emb-x", input: "abc" }, "/v1/embeddings")));
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: "/v1/embeddings", completion_window: "24h", metadata: { owner: "ops" } });
    await waitFor(batch.id, ["completed"]);
    const res = await request.get(`/api/batches/${batch.id}`);
    expect(res.status()).toBe(200);
    const ours = await res.json();
    expect(ours).toMatchObject({ flow: "openai", status: "completed", metadata: { owner: "ops" }, cost: { spent: 0.003 } });
    const job = await (await request.get(`/api/batches/${batch.id}/jobs/ord-1`)).json();
    expect(job).toMatchObject({ record_id: "ord-1", status: "succeeded" });
    // the openai export of the same batch writes the same line as the output file
    const exported = (await (await request.get(`/api/batches/${batch.id}/results?format=openai`)).text()).trim();
    const file2 = (await client.batches.retrieve(batch.id)).output_file_id!;
    expect(exported).toBe((await (await client.files.content(file2)).text()).trim());
  });

  test("429s and 5xx are retried as the batch's options say, Retry-After honoured", async () => {
    const file = await upload(jsonl(line("flaky", chat("flaky-2", "e2e flaky")), line("down", chat("down", "e2e down"))));
    // Batchboard's own options ride along as an extra body field
    const params = { input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", batchboard: { max_retries: 3 } } as const;
    const created = await client.batches.create(params as unknown as OpenAI.Batches.BatchCreateParams);
    const done = await waitFor(created.id, ["completed"]);
    expect(done.request_counts).toEqual({ total: 2, completed: 1, failed: 1 });
    expect(mock.calls("e2e flaky")).toBe(3); // two 429s, then the answer
    expect(mock.calls("e2e down")).toBe(4); // the first attempt and 3 retries
    expect((await lines(done.output_file_id!))[0]).toMatchObject({ custom_id: "flaky", response: { status_code: 200 } });
    expect((await lines(done.error_file_id!))[0]).toMatchObject({ custom_id: "down", error: null, response: { status_code: 500 } });
  });

  test("cancels a running batch: cancelling, then cancelled with the unrun requests in the error file", async () => {
    const file = await upload(jsonl(...Array.from({ length: 4 }, (_, i) => line(`slow-${i}`, chat("slow", `e2e slow ${i}`)))));
    const created = await client.batches.create({ ...({ batchboard: { concurrency: 1 } } as object), input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    await waitUntil(async () => (mock.calls("e2e slow 0") > 0 ? true : undefined), "the first request in flight");
    const cancelling = await client.batches.cancel(created.id);
    expect(["cancelling", "cancelled"]).toContain(cancelling.status);
    const done = await waitFor(created.id, ["cancelled"]);
    expect(done.cancelled_at).toBeGreaterThanOrEqual(done.cancelling_at!);
    const errors = await lines(done.error_file_id!);
    expect(errors.map((l) => l.custom_id)).toEqual(["slow-0", "slow-1", "slow-2", "slow-3"]);
    expect(errors.every((l) => l.response === null && l.error!.code === "batch_cancelled")).toBe(true);
    await expect(client.batches.cancel(created.id)).rejects.toMatchObject({ status: 409 });
  });

  test("lists batches newest first with limit and after, and the SDK pages through them", async () => {
    const file = await upload(jsonl(line("p", chat("gpt-e2e", "page"))));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" })).id);
    const page = await client.batches.list({ limit: 2 });
    expect(page.data.map((b) => b.id)).toEqual([ids[2], ids[1]]);
    expect(page.has_more).toBe(true);
    const next = await page.getNextPage();
    expect(next.data[0]!.id).toBe(ids[0]);
    const all: string[] = [];
    for await (const b of client.batches.list({ limit: 2 })) all.push(b.id);
    expect(all.slice(0, 3)).toEqual([ids[2], ids[1], ids[0]]);
    expect(new Set(all).size).toBe(all.length);
    const files: string[] = [];
    for await (const f of client.files.list({ limit: 2, purpose: "batch" })) files.push(f.id);
    expect(files).toContain(file.id);
  });

  test("a malformed input file gives a failed batch with errors naming each line, and nothing runs", async () => {
    const before = mock.requests.length;
    const file = await upload(["{oops", line("dup", chat("gpt-e2e", "x")), line("dup", chat("gpt-e2e", "y")), line("emb", { model: "m", input: "z" }, "/v1/embeddings")].join("\n"));
    const created = await client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    expect(created.status).toBe("failed");
    expect(created.errors!.data!.map((e) => [e.line, e.code])).toEqual([
      [1, "invalid_json_line"],
      [3, "duplicate_custom_id"],
      [4, "url_mismatch"],
    ]);
    expect(created.request_counts).toEqual({ total: 0, completed: 0, failed: 0 });
    expect((await client.batches.retrieve(created.id)).status).toBe("failed");
    expect(mock.requests.length).toBe(before);
  });

  test("the SDK and plain fetch get the same answers, errors included", async () => {
    const file = await upload(jsonl(line("same", chat("gpt-e2e", "same"))));
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    const done = await waitFor(batch.id, ["completed"]);
    const viaFetch = await (await fetch(`${base}/v1/batches/${batch.id}`, { headers: { authorization: "Bearer bb-e2e" } })).json();
    expect(viaFetch).toEqual(JSON.parse(JSON.stringify(await client.batches.retrieve(batch.id))));
    expect(await (await fetch(`${base}/v1/files/${done.output_file_id}/content`)).text()).toBe(await (await client.files.content(done.output_file_id!)).text());

    const sdkError = await client.files.retrieve("file-missing").catch((e: unknown) => e);
    expect(sdkError).toBeInstanceOf(OpenAI.NotFoundError);
    const e = sdkError as InstanceType<typeof OpenAI.NotFoundError>;
    expect(e.requestID).toMatch(/^req_/);
    const raw = await fetch(`${base}/v1/files/file-missing`);
    expect(raw.status).toBe(e.status);
    const body = await raw.json();
    expect(body.error).toEqual(e.error);
    expect(body.error).toMatchObject({ code: "not_found", type: "invalid_request_error", param: "file_id", message: "No such File object: file-missing" });
    expect(Array.isArray(body.error.details)).toBe(true);

    const badPurpose = await client.files.create({ file: await toFile(Buffer.from(line("a", {})), "x.jsonl"), purpose: "fine-tune" }).catch((x: unknown) => x);
    expect(badPurpose).toBeInstanceOf(OpenAI.BadRequestError);
    expect((badPurpose as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("purpose");
    const form = new FormData();
    form.append("file", new Blob([line("a", {})]), "x.jsonl");
    form.append("purpose", "fine-tune");
    const rawBad = await fetch(`${base}/v1/files`, { method: "POST", body: form });
    expect(rawBad.status).toBe(400);
    expect((await rawBad.json()).error.param).toBe("purpose");
  });

  test("the OpenAPI document lists the /v1 routes", async ({ request }) => {
    const doc = await (await request.get("/api/openapi.json")).json();
    for (const p of ["/v1/files", "/v1/files/{id}", "/v1/files/{id}/content", "/v1/batches", "/v1/batches/{id}", "/v1/batches/{id}/cancel"]) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
  });
});

test.describe("the OpenAI SDK with authentication on", () => {
  test("a Batchboard API key is the SDK's api key; a wrong one is an AuthenticationError", async () => {
    const authed = new OpenAI({ baseURL: `http://localhost:${AUTH_PORT}/v1`, apiKey: E2E_ADMIN_TOKEN, maxRetries: 0 });
    const list = await authed.batches.list();
    expect(list.data).toEqual([]);
    const wrong = new OpenAI({ baseURL: `http://localhost:${AUTH_PORT}/v1`, apiKey: "bb_not-a-key", maxRetries: 0 });
    const err = await wrong.files.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((err as InstanceType<typeof OpenAI.AuthenticationError>).error).toMatchObject({ code: "unauthorized", type: "authentication_error" });
  });
});
