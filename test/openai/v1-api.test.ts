// The /v1 Batch API against a real database, a real worker and an OpenAI-compatible mock upstream:
// files in and out, validation as OpenAI does it, runs with retries, cancel, expiry, pagination,
// and a /v1 batch being an ordinary batch underneath.
import path from "node:path";
import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { getBatch, retryBatch } from "@/lib/engine";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { createV1Batch } from "@/lib/openai/batches";
import { deleteExpiredFiles, expireBatch, sweepOpenAIBatches } from "@/lib/openai/sweep";
import { startOpenAIMock, type OpenAIMock } from "@/test/support/openai-mock";
import { waitFor } from "@/test/support/wait";
import { useTestDatabase } from "../helpers/db";
import { loadApiRoutes } from "../helpers/routes";
import { BOUNDARY, chat, jsonBody, multipart, requestLine, v1, v1Json } from "./helpers";

// read once by lib/config, as at start-up: set before anything routes
const mock: OpenAIMock = await startOpenAIMock({ keys: { "/v1/": "sk-default", "/emb/v1/": "sk-emb" } });
process.env.BATCHBOARD_AUTH = "off";
process.env.BATCHBOARD_HTTP_ALLOWLIST = "127.0.0.1";
process.env.OPENAI_BASE_URL = `${mock.url}/v1`;
process.env.OPENAI_API_KEY = "sk-default";
process.env.EMB_KEY = "sk-emb";
process.env.BATCHBOARD_MODEL_ROUTES = `emb-*=${mock.url}/emb/v1;key=EMB_KEY;input_per_1m=1000`;
process.env.BATCHBOARD_UPLOAD_IDLE_TIMEOUT_MS = "1000";

useTestDatabase();
let worker: WorkerHandle;

beforeAll(async () => {
  worker = await startWorker({ mode: "in-process", concurrency: 8, pollMs: 50, maintenanceMs: 100, log: () => {} });
});
afterAll(async () => {
  await worker?.stop(1000);
  await mock.close();
});

interface FileObj {
  id: string;
  object: string;
  bytes: number;
  filename: string;
  purpose: string;
  created_at: number;
  status: string;
}
interface BatchObj {
  id: string;
  status: string;
  errors: { object: string; data: { code: string; message: string; param: string | null; line: number | null }[] } | null;
  output_file_id: string | null;
  error_file_id: string | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
  usage?: { input_tokens: number; output_tokens: number; total_tokens: number };
  [k: string]: unknown;
}
interface OutLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: Record<string, unknown> } | null;
  error: { code: string; message: string } | null;
}

async function upload(content: string, filename = "input.jsonl"): Promise<FileObj> {
  const res = await v1Json<FileObj>("POST", "/v1/files", multipart([{ name: "file", filename, content }, { name: "purpose", value: "batch" }]));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

async function createBatch(body: Record<string, unknown>): Promise<BatchObj> {
  const res = await v1Json<BatchObj>("POST", "/v1/batches", jsonBody({ endpoint: "/v1/chat/completions", completion_window: "24h", ...body }));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

async function retrieve(id: string): Promise<BatchObj> {
  const res = await v1Json<BatchObj>("GET", "/v1/batches/[id]", { params: { id } });
  expect(res.status).toBe(200);
  return res.body;
}

const waitStatus = (id: string, statuses: string[], ms = 30_000) =>
  waitFor(`batch ${id} to be ${statuses.join("|")}`, async () => {
    const b = await retrieve(id);
    return statuses.includes(b.status) && b;
  }, ms, 50);

async function content(fileId: string): Promise<OutLine[]> {
  const res = await v1("GET", "/v1/files/[id]/content", { params: { id: fileId } });
  expect(res.status).toBe(200);
  const text = await res.text();
  return text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as OutLine);
}

describe("files", () => {
  it("takes the file before its purpose (as the Node SDK sends it), as a dataset keyed by custom_id", async () => {
    const text = [requestLine("a", chat("m", "one")), requestLine("b", chat("m", "two"))].join("\n") + "\n";
    const file = await upload(text, "two.jsonl");
    expect(file).toMatchObject({ object: "file", bytes: Buffer.byteLength(text), filename: "two.jsonl", purpose: "batch", status: "processed" });
    expect(file.id).toMatch(/^file-[0-9a-f]{24}$/);
    const { rows } = await getPool().query(
      `SELECT r.record_id, r.data FROM openai_files f JOIN dataset_records r ON r.dataset_id = f.dataset_id WHERE f.id = $1 ORDER BY r.position`,
      [file.id],
    );
    expect(rows.map((r) => r.record_id)).toEqual(["a", "b"]);
    expect((await v1Json("GET", "/v1/files/[id]", { params: { id: file.id } })).body).toEqual(file);
    expect(await content(file.id)).toEqual(text.trim().split("\n").map((l) => JSON.parse(l)));
  });

  it("answers 400 to a purpose other than batch, before or after the file, leaving nothing behind", async () => {
    const before = (await getPool().query(`SELECT count(*)::int AS n FROM datasets`)).rows[0].n;
    for (const parts of [
      [{ name: "file", filename: "x.jsonl", content: requestLine("a", chat("m", "x")) }, { name: "purpose", value: "fine-tune" }],
      [{ name: "purpose", value: "assistants" }, { name: "file", filename: "x.jsonl", content: requestLine("a", chat("m", "x")) }],
      [{ name: "file", filename: "x.jsonl", content: requestLine("a", chat("m", "x")) }],
      [{ name: "purpose", value: "nonsense" }],
    ]) {
      const res = await v1Json<{ error: { code: string; type: string; param: string; message: string; details: unknown[] } }>("POST", "/v1/files", multipart(parts));
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error).toMatchObject({ code: "validation_failed", type: "invalid_request_error", param: "purpose" });
      expect(Array.isArray(res.body.error.details)).toBe(true);
      expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    }
    const noFile = await v1Json<{ error: { param: string } }>("POST", "/v1/files", multipart([{ name: "purpose", value: "batch" }]));
    expect(noFile.status).toBe(400);
    expect(noFile.body.error.param).toBe("file");
    const json = await v1Json<{ error: { param: string } }>("POST", "/v1/files", jsonBody({ purpose: "batch" }));
    expect(json.status).toBe(400);
    expect((await getPool().query(`SELECT count(*)::int AS n FROM datasets`)).rows[0].n).toBe(before);
  });

  it("lists newest first with after/limit (has_more, first_id, last_id), filters by purpose, and deletes", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await upload(requestLine(`p${i}`, chat("m", `p${i}`)))).id);
    const page1 = await v1Json<{ data: FileObj[]; has_more: boolean; first_id: string; last_id: string; object: string }>("GET", "/v1/files", { query: "limit=2&purpose=batch" });
    expect(page1.body).toMatchObject({ object: "list", has_more: true, first_id: ids[2], last_id: ids[1] });
    expect(page1.body.data.map((f) => f.id)).toEqual([ids[2], ids[1]]);
    const page2 = await v1Json<{ data: FileObj[] }>("GET", "/v1/files", { query: `limit=2&after=${ids[1]}` });
    expect(page2.body.data[0]!.id).toBe(ids[0]);
    const asc = await v1Json<{ data: FileObj[] }>("GET", "/v1/files", { query: `order=asc&after=${ids[0]}&limit=1` });
    expect(asc.body.data[0]!.id).toBe(ids[1]);
    expect((await v1Json("GET", "/v1/files", { query: "purpose=batch_output&limit=1" })).body).toMatchObject({ data: [] });
    expect((await v1Json("GET", "/v1/files", { query: "after=file-nope" })).status).toBe(400);

    expect((await v1Json("DELETE", "/v1/files/[id]", { params: { id: ids[0]! } })).body).toEqual({ id: ids[0], object: "file", deleted: true });
    const gone = await v1Json<{ error: { code: string; message: string } }>("GET", "/v1/files/[id]", { params: { id: ids[0]! } });
    expect(gone.status).toBe(404);
    expect(gone.body.error).toMatchObject({ code: "not_found", type: "invalid_request_error", message: `No such File object: ${ids[0]}` });
    expect((await getPool().query(`SELECT count(*)::int AS n FROM datasets WHERE name LIKE $1`, [`%${ids[0]}%`])).rows[0].n).toBe(0);
  });
});

describe("slow uploads", () => {
  it("drops an upload that stalls with 408, leaving nothing behind", async () => {
    const before = (await getPool().query(`SELECT count(*)::int AS n FROM datasets`)).rows[0].n;
    const head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="slow.jsonl"\r\n\r\n${requestLine("s", chat("m", "s"))}\n`;
    let sent = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (!sent) {
          sent = true;
          return controller.enqueue(new TextEncoder().encode(head));
        }
        await new Promise((r) => setTimeout(r, 5000)); // then nothing, past the idle timeout
        controller.close();
      },
    });
    const route = (await loadApiRoutes(path.resolve("app/v1"))).find((r) => r.pattern === "/v1/files")!;
    const request = new NextRequest("http://localhost:3000/v1/files", {
      method: "POST",
      headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}` },
      body,
      duplex: "half",
    } as ConstructorParameters<typeof NextRequest>[1]);
    const res = await route.handlers.POST!(request, { params: Promise.resolve({}) });
    expect(res.status).toBe(408);
    expect((await res.json()).error).toMatchObject({ code: "request_timeout", type: "invalid_request_error" });
    expect((await getPool().query(`SELECT count(*)::int AS n FROM datasets`)).rows[0].n).toBe(before);
  });
});

describe("file expiry", () => {
  it("takes expires_after from the form, and deletes the file with its dataset once it has passed", async () => {
    const form = (seconds: string) =>
      multipart([
        { name: "purpose", value: "batch" },
        { name: "expires_after[anchor]", value: "created_at" },
        { name: "expires_after[seconds]", value: seconds },
        { name: "file", filename: "short.jsonl", content: requestLine("x", chat("m", "x")) },
      ]);
    const bad = await v1Json<{ error: { param: string } }>("POST", "/v1/files", form("60"));
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe("expires_after.seconds");
    const { body: file } = await v1Json<FileObj & { expires_at: number }>("POST", "/v1/files", form("3600"));
    expect(file.expires_at).toBe(file.created_at + 3600);
    expect(await deleteExpiredFiles()).toBe(0);
    await getPool().query(`UPDATE openai_files SET expires_at = now() - interval '1 second' WHERE id = $1`, [file.id]);
    expect(await deleteExpiredFiles()).toBe(1);
    expect((await v1Json("GET", "/v1/files/[id]", { params: { id: file.id } })).status).toBe(404);
  });
});

describe("batches", () => {
  it("runs a chat batch: output lines carry the upstream's body unchanged, 4xx lines go to the error file", async () => {
    const file = await upload(
      [requestLine("ok-1", chat("gpt-mock", "hello")), requestLine("bad-1", chat("reject", "nope")), requestLine("ok-2", chat("gpt-mock", "world"))].join("\n"),
    );
    const created = await createBatch({ input_file_id: file.id, metadata: { team: "search", run: "nightly" } });
    expect(created).toMatchObject({
      object: "batch",
      endpoint: "/v1/chat/completions",
      input_file_id: file.id,
      completion_window: "24h",
      status: "in_progress",
      errors: null,
      output_file_id: null,
      metadata: { team: "search", run: "nightly" },
      request_counts: { total: 3, completed: 0, failed: 0 },
    });
    expect(created.expires_at).toBe((created.created_at as number) + 24 * 3600);
    expect(created.model).toBeUndefined(); // the lines name two models

    const done = await waitStatus(created.id, ["completed"]);
    expect(done.request_counts).toEqual({ total: 3, completed: 2, failed: 1 });
    expect(done.completed_at).toBeGreaterThanOrEqual(done.created_at as number);
    expect(done.finalizing_at).not.toBeNull();
    expect(done.usage).toMatchObject({ input_tokens: 20, output_tokens: 10, total_tokens: 30 });

    const out = await content(done.output_file_id!);
    expect(out.map((l) => l.custom_id)).toEqual(["ok-1", "ok-2"]);
    const sent = mock.requests.find((r) => (r.body.messages as { content: string }[] | undefined)?.[0]?.content === "hello")!;
    expect(sent.path).toBe("/v1/chat/completions");
    expect(sent.authorization).toBe("Bearer sk-default");
    expect(sent.body).toEqual(chat("gpt-mock", "hello"));
    expect(out[0]).toMatchObject({ error: null, response: { status_code: 200, body: { object: "chat.completion", choices: [{ message: { content: "echo: hello" } }] } } });
    expect(out[0]!.response!.request_id).toMatch(/^req_mock_/);

    const errors = await content(done.error_file_id!);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      custom_id: "bad-1",
      error: null,
      response: { status_code: 400, body: { error: { code: "model_not_found", type: "invalid_request_error" } } },
    });

    // the file objects' sizes are the bytes their content streams
    const outFile = (await v1Json<FileObj>("GET", "/v1/files/[id]", { params: { id: done.output_file_id! } })).body;
    const outText = await (await v1("GET", "/v1/files/[id]/content", { params: { id: done.output_file_id! } })).text();
    expect(outFile).toMatchObject({ purpose: "batch_output", bytes: Buffer.byteLength(outText), filename: `${created.id}_output.jsonl` });

    // an ordinary batch underneath: the openai flow over the file's dataset, records keyed by custom_id, metadata kept
    const batch = await getBatch(created.id);
    expect(batch).toMatchObject({ flow: "openai", status: "completed", metadata: { team: "search", run: "nightly" } });
    expect(batch).toMatchObject({ concurrency: 16, maxRetries: 5 });
  });

  it("keeps the upstream's key out of what it stores, even when an error body repeats it", async () => {
    const file = await upload(requestLine("leak", chat("echo-auth", "leak")));
    const done = await waitStatus((await createBatch({ input_file_id: file.id })).id, ["completed"]);
    const text = await (await v1("GET", "/v1/files/[id]/content", { params: { id: done.error_file_id! } })).text();
    expect(text).toContain("unexpected header: Bearer [redacted]");
    expect(text).not.toContain("sk-default");
  });

  it("routes embeddings by model to their own upstream and key, with cost from usage and the route's prices", async () => {
    const file = await upload([requestLine("e1", { model: "emb-small", input: "cat" }, "/v1/embeddings"), requestLine("e2", { model: "emb-small", input: "dog" }, "/v1/embeddings")].join("\n"));
    const created = await createBatch({ input_file_id: file.id, endpoint: "/v1/embeddings" });
    expect(created.model).toBe("emb-small");
    const done = await waitStatus(created.id, ["completed"]);
    const out = await content(done.output_file_id!);
    expect(out.map((l) => l.response!.body.object)).toEqual(["list", "list"]);
    expect(done.error_file_id).toBeNull();
    const sent = mock.requests.filter((r) => r.path === "/emb/v1/embeddings");
    expect(sent).toHaveLength(2);
    expect(sent.every((r) => r.authorization === "Bearer sk-emb")).toBe(true);
    // 3 prompt tokens per request at 1000 per million
    expect((await getBatch(created.id)).costSpent).toBeCloseTo(0.006, 10);
  });

  it("retries 429s and 5xx as the batch's options say (Retry-After honoured), then keeps the last response", async () => {
    const file = await upload([requestLine("flaky", chat("flaky-2", "flaky prompt")), requestLine("down", chat("down", "down prompt"))].join("\n"));
    const created = await createBatch({ input_file_id: file.id, batchboard: { max_retries: 2, retry_backoff_ms: 60_000 } });
    const done = await waitStatus(created.id, ["completed"]);
    expect(done.request_counts).toEqual({ total: 2, completed: 1, failed: 1 });
    // Retry-After: 0 overrides the minute of backoff; 1 attempt + max_retries
    expect(mock.calls("flaky prompt")).toBe(3);
    expect(mock.calls("down prompt")).toBe(3);
    const [down] = await content(done.error_file_id!);
    expect(down).toMatchObject({ custom_id: "down", response: { status_code: 500, body: { error: { type: "server_error" } } }, error: null });
    expect((await content(done.output_file_id!))[0]).toMatchObject({ custom_id: "flaky", response: { status_code: 200 } });
  });

  it("fails a malformed file at creation with errors naming each line, and runs nothing", async () => {
    const text = [
      requestLine("fine", chat("m", "fine")),
      "{not json",
      JSON.stringify({ method: "POST", url: "/v1/chat/completions", body: {} }),
      "",
      requestLine("fine", chat("m", "again")),
      requestLine("elsewhere", { model: "m", input: "x" }, "/v1/embeddings"),
      JSON.stringify({ custom_id: "get", method: "GET", url: "/v1/chat/completions", body: {} }),
    ].join("\n");
    const file = await upload(text);
    const calls = mock.requests.length;
    const created = await createBatch({ input_file_id: file.id });
    expect(created.status).toBe("failed");
    expect(created.failed_at).toBe(created.created_at);
    expect(created.in_progress_at).toBeNull();
    expect(created.errors!.object).toBe("list");
    expect(created.errors!.data.map((e) => [e.line, e.code, e.param])).toEqual([
      [2, "invalid_json_line", null],
      [3, "missing_required_parameter", "custom_id"],
      [5, "duplicate_custom_id", "custom_id"],
      [6, "url_mismatch", "url"],
      [7, "invalid_value", "method"],
    ]);
    const batch = await getBatch(created.id);
    expect(batch).toMatchObject({ status: "failed", stopReason: "validation_failed", total: 0 });
    expect((await getPool().query(`SELECT count(*)::int AS n FROM jobs WHERE batch_id = $1`, [created.id])).rows[0].n).toBe(0);
    expect(mock.requests.length).toBe(calls);
    // it stays failed: the sweep has nothing to count
    await sweepOpenAIBatches();
    expect((await retrieve(created.id)).status).toBe("failed");

    const empty = await createBatch({ input_file_id: (await upload("\n\n")).id });
    expect(empty.errors!.data).toEqual([{ code: "empty_file", message: "The batch input file is empty.", param: null, line: null }]);
  });

  it("refuses bad requests with 400 or 404 naming the parameter, never a 500", async () => {
    const file = await upload(requestLine("x", chat("m", "x")));
    const cases: [Record<string, unknown>, number, string][] = [
      [{ input_file_id: file.id, endpoint: "/v1/moderations", completion_window: "24h" }, 400, "endpoint"],
      [{ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "48h" }, 400, "completion_window"],
      [{ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", metadata: { k: 1 } }, 400, "metadata.k"],
      [{ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])) }, 400, "metadata"],
      [{ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", colour: "red" }, 400, "colour"],
      [{ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", batchboard: { concurrency: 0 } }, 400, "batchboard.concurrency"],
      [{ endpoint: "/v1/chat/completions", completion_window: "24h" }, 400, "input_file_id"],
      [{ input_file_id: "file-missing", endpoint: "/v1/chat/completions", completion_window: "24h" }, 404, "input_file_id"],
    ];
    for (const [body, status, param] of cases) {
      const res = await v1Json<{ error: { param: string; type: string; code: string } }>("POST", "/v1/batches", jsonBody(body));
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error.param, JSON.stringify(body)).toBe(param);
      expect(res.body.error.type).toBe("invalid_request_error");
    }
    const notJson = await v1Json<{ error: { code: string } }>("POST", "/v1/batches", { headers: { "content-type": "application/json" }, body: "{" });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe("invalid_json");
    expect((await v1Json("GET", "/v1/batches/[id]", { params: { id: "batch_nope" } })).status).toBe(404);
    const unknown = await v1Json<{ error: { code: string; type: string } }>("GET", "/v1/[...slug]", { params: { slug: "models" } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.type).toBe("invalid_request_error");
  });

  it("checks batchboard options past the route's schema with the batch's own check: a field-named 400, nothing written", async () => {
    const file = await upload(requestLine("x", chat("m", "x")));
    const count = async () => (await getPool().query<{ n: number }>(`SELECT count(*)::int AS n FROM batches`)).rows[0]!.n;
    const before = await count();
    const request = { input_file_id: file.id, endpoint: "/v1/chat/completions" as const, completion_window: "24h" as const, batchboard: { concurrency: 0 } };
    const err = await createV1Batch(request).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "validation_failed", details: [expect.objectContaining({ path: "concurrency" })] });
    expect(await count()).toBe(before);
    // the same request through the route: the /v1 error shape, naming the field as sent
    const res = await v1Json<{ error: { param: string; type: string } }>("POST", "/v1/batches", jsonBody(request));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ param: "batchboard.concurrency", type: "invalid_request_error" });
    expect(await count()).toBe(before);
  });

  it("cancels a running batch: cancelling until its files are counted, then cancelled with batch_cancelled lines", async () => {
    const file = await upload(Array.from({ length: 3 }, (_, i) => requestLine(`s${i}`, chat("slow", `slow ${i}`))).join("\n"));
    const created = await createBatch({ input_file_id: file.id, batchboard: { concurrency: 1 } });
    await waitFor("a request in flight", async () => mock.requests.some((r) => r.body.model === "slow"));
    const cancelled = await v1Json<BatchObj>("POST", "/v1/batches/[id]/cancel", { params: { id: created.id } });
    expect(cancelled.status).toBe(200);
    expect(["cancelling", "cancelled"]).toContain(cancelled.body.status);
    expect(cancelled.body.cancelling_at).not.toBeNull();
    const done = await waitStatus(created.id, ["cancelled"]);
    expect(done.cancelled_at).not.toBeNull();
    expect(done.output_file_id).toBeNull();
    const lines = await content(done.error_file_id!);
    expect(lines.map((l) => l.custom_id)).toEqual(["s0", "s1", "s2"]);
    expect(lines.every((l) => l.error?.code === "batch_cancelled" && l.response === null)).toBe(true);
    const again = await v1Json<{ error: { code: string } }>("POST", "/v1/batches/[id]/cancel", { params: { id: created.id } });
    expect(again.status).toBe(409);
    expect(again.headers.get("x-should-retry")).toBe("false");
  });

  it("expires what is unfinished when the completion window ends, as OpenAI does", async () => {
    const file = await upload([requestLine("quick", chat("gpt-mock", "quick one")), requestLine("stuck", chat("slow", "stuck one"))].join("\n"));
    const created = await createBatch({ input_file_id: file.id, batchboard: { concurrency: 2 } });
    await waitFor("the quick request answered", async () => (await getBatch(created.id)).succeeded === 1);
    // the window ends now: the sweep (the worker's maintenance) expires the batch
    await getPool().query(`UPDATE openai_batches SET expires_at = now() - interval '1 second' WHERE batch_id = $1`, [created.id]);
    const done = await waitStatus(created.id, ["expired"]);
    expect(done.expired_at).not.toBeNull();
    expect(done.request_counts).toMatchObject({ total: 2, completed: 1 });
    expect((await content(done.output_file_id!)).map((l) => l.custom_id)).toEqual(["quick"]);
    expect(await content(done.error_file_id!)).toEqual([
      expect.objectContaining({
        custom_id: "stuck",
        response: null,
        error: { code: "batch_expired", message: "This request could not be executed before the completion window expired." },
      }),
    ]);
    expect(await getBatch(created.id)).toMatchObject({ status: "cancelled", stopReason: "expired" });
    expect(await expireBatch(created.id)).toBe(false);
  });

  it("counts the files again when the batch is retried underneath, keeping their ids", async () => {
    const file = await upload([requestLine("r-ok", chat("gpt-mock", "retry ok")), requestLine("r-bad", chat("reject", "retry bad"))].join("\n"));
    const first = await waitStatus((await createBatch({ input_file_id: file.id })).id, ["completed"]);
    expect(first.request_counts).toMatchObject({ completed: 1, failed: 1 });
    await retryBatch(first.id, ["failed"]);
    expect((await retrieve(first.id)).status).toBe("in_progress");
    const again = await waitStatus(first.id, ["completed"]);
    expect(again.finalizing_at).toBeGreaterThanOrEqual(first.finalizing_at as number);
    expect(again.output_file_id).toBe(first.output_file_id);
    expect(again.error_file_id).toBe(first.error_file_id);
    expect(mock.calls("retry bad")).toBe(2);
  });

  it("lists /v1 batches newest first with after and limit", async () => {
    const file = await upload(requestLine("l", chat("gpt-mock", "list")));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await createBatch({ input_file_id: file.id })).id);
    const page = await v1Json<{ object: string; data: BatchObj[]; has_more: boolean; first_id: string; last_id: string }>("GET", "/v1/batches", { query: "limit=2" });
    expect(page.body).toMatchObject({ object: "list", has_more: true, first_id: ids[2], last_id: ids[1] });
    const next = await v1Json<{ data: BatchObj[] }>("GET", "/v1/batches", { query: `limit=2&after=${ids[1]}` });
    expect(next.body.data[0]!.id).toBe(ids[0]);
    expect((await v1Json("GET", "/v1/batches", { query: "limit=101" })).status).toBe(400);
    expect((await v1Json("GET", "/v1/batches", { query: "after=batch_unknown" })).status).toBe(400);
    // deleting an input file a running batch reads is refused; an output file is forgotten, its batch kept
    const running = await createBatch({ input_file_id: (await upload(requestLine("slowly", chat("slow", "in use")))).id });
    const inUse = await v1Json<{ error: { code: string } }>("DELETE", "/v1/files/[id]", { params: { id: running.input_file_id as string } });
    expect(inUse.status).toBe(409);
    await v1("POST", "/v1/batches/[id]/cancel", { params: { id: running.id } });
  });
});
