// What each CLI command sends (method, path, query, headers, body) and prints, against a stand-in API
// on 127.0.0.1: the requests are made by the shared API client (lib/client/api.ts), and these tests
// hold the CLI's wire behaviour and output to what they were before it used it.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { main } from "./main";

interface Seen {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage["headers"];
  body: string;
}

const BATCH = {
  id: "b_1",
  name: "n",
  flow: "echo",
  status: "completed",
  stop: null,
  outcome: { kind: "all_succeeded", succeeded: 2 },
  parameters: {},
  options: {},
  progress: { total: 2, pending: 0, running: 0, waiting_input: 0, succeeded: 2, failed: 0, cancelled: 0, skipped: 0, percent: 100 },
  cost: { spent: 0, max: null, projected_total: null },
  rate_limit: null,
  timing: { created_at: "2026-01-01T00:00:00.000Z", duration_seconds: 1, items_per_second: 2, eta_seconds: null },
};

let server: Server;
let url: string;
let seen: Seen[] = [];
/** the next answer: status and body (JSON unless a string) */
let reply: (s: Seen) => { status: number; body: unknown; type?: string } = () => ({ status: 200, body: BATCH });

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const u = new URL(req.url!, "http://x");
      const s: Seen = { method: req.method!, path: u.pathname, query: Object.fromEntries(u.searchParams), headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(s);
      const r = reply(s);
      res.writeHead(r.status, { "content-type": r.type ?? "application/json" });
      res.end(typeof r.body === "string" ? r.body : JSON.stringify(r.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen = [];
  reply = () => ({ status: 200, body: BATCH });
});

async function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(args, { out: (s) => (out += `${s}\n`), err: (s) => (err += `${s}\n`), env: { BATCHBOARD_URL: url, ...env } as unknown as NodeJS.ProcessEnv });
  return { code, out, err };
}

const page = (items: unknown[]) => ({ items, next_cursor: "c2", total: 9 });

describe("the CLI's requests", () => {
  it("create: POST /api/batches with the flags' body, the idempotency key, the token; prints warnings and the batch", async () => {
    reply = () => ({ status: 201, body: { ...BATCH, warnings: [{ code: "w", message: "every record will fail" }] } });
    const r = await run(["create", "echo", "--param", "delay_ms=5", "--concurrency", "3", "--idempotency-key", "k1", "--token", "t0k"]);
    expect(r.code).toBe(0);
    expect(seen).toHaveLength(1);
    const s = seen[0]!;
    expect(s).toMatchObject({ method: "POST", path: "/api/batches", query: {} });
    expect(s.headers).toMatchObject({ authorization: "Bearer t0k", "idempotency-key": "k1", "content-type": "application/json", accept: "application/json" });
    expect(JSON.parse(s.body)).toEqual({ flow: "echo", parameters: { delay_ms: 5 }, concurrency: 3 });
    expect(r.err).toContain("warning: every record will fail");
    expect(r.out).toContain("b_1");
  });

  it("no token: no Authorization header; the env's token otherwise", async () => {
    await run(["status", "b_1"]);
    expect(seen[0]!.headers.authorization).toBeUndefined();
    await run(["status", "b_1"], { BATCHBOARD_TOKEN: "envtok" });
    expect(seen[1]!.headers.authorization).toBe("Bearer envtok");
  });

  it("a base URL with a path prefix: the API's paths resolve under it", async () => {
    await run(["status", "b 1", "--url", `${url}/prefix`]);
    expect(seen[0]).toMatchObject({ method: "GET", path: "/prefix/api/batches/b%201" });
  });

  it("status, cancel, pause, resume", async () => {
    expect((await run(["status", "b_1"])).out).toMatch(/^id +b_1  \(n\)\nflow +echo\nstatus +completed/);
    for (const a of ["cancel", "pause", "resume"]) {
      const r = await run([a, "b_1"]);
      expect(r.out).toBe("b_1 is completed\n");
    }
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      "GET /api/batches/b_1",
      "POST /api/batches/b_1/cancel",
      "POST /api/batches/b_1/pause",
      "POST /api/batches/b_1/resume",
    ]);
    expect(seen[1]!.body).toBe("");
  });

  it("clone: POST its body of --set and --records", async () => {
    await run(["clone", "b_1", "--set", "parameters.model=gpt", "--set", "concurrency=4", "--records", "failed"]);
    expect(seen[0]).toMatchObject({ method: "POST", path: "/api/batches/b_1/clone" });
    expect(JSON.parse(seen[0]!.body)).toEqual({ parameters: { model: "gpt" }, concurrency: 4, records: "failed" });
  });

  it("list: GET /api/batches with the filters as given (limit as typed), the table and the page line", async () => {
    reply = () => ({ status: 200, body: page([BATCH]) });
    const r = await run(["list", "--status", "running,failed", "--q", "x", "--parent", "b_0", "--limit", "5", "--cursor", "c1"]);
    expect(seen[0]).toMatchObject({ method: "GET", path: "/api/batches", query: { status: "running,failed", q: "x", parent: "b_0", limit: "5", cursor: "c1" } });
    expect(r.out).toMatch(/ID\s+STATUS\s+FLOW/);
    expect(r.out).toContain("1 of 9  (more: --cursor c2)");
    await run(["list"]);
    expect(seen[1]!.query).toEqual({});
  });

  it("summary: group_by and stats comma-joined, top", async () => {
    reply = () => ({ status: 200, body: { batch_id: "b_1", total: 0, counts: {}, groups: [], stats: [] } });
    await run(["summary", "b_1", "--group-by", "result.a", "--group-by", "result.b", "--stats", "result.n", "--top", "3", "--json"]);
    expect(seen[0]).toMatchObject({ method: "GET", path: "/api/batches/b_1/summary", query: { group_by: "result.a,result.b", stats: "result.n", top: "3" } });
    await run(["summary", "b_1", "--json"]);
    expect(seen[1]!.query).toEqual({});
  });

  it("retry: the statuses given, else an empty body (the server's default)", async () => {
    reply = () => ({ status: 200, body: { batch: BATCH, retried: 2 } });
    const r = await run(["retry", "b_1", "--statuses", "failed, cancelled"]);
    expect(seen[0]).toMatchObject({ method: "POST", path: "/api/batches/b_1/retry" });
    expect(JSON.parse(seen[0]!.body)).toEqual({ statuses: ["failed", "cancelled"] });
    expect(r.out).toBe("re-queued 2 job(s); b_1 is completed\n");
    await run(["retry", "b_1"]);
    expect(JSON.parse(seen[1]!.body)).toEqual({});
  });

  it("jobs: GET the batch's jobs with its filters; errors as code: message", async () => {
    reply = () => ({ status: 200, body: page([{ record_id: "r1", status: "failed", attempts: 1, interruptions: 0, duration_ms: 3, cost: 0, error: { code: "boom", message: "it broke" } }]) });
    const r = await run(["jobs", "b_1", "--status", "failed", "--q", "r", "--sort", "finished", "--limit", "2"]);
    expect(seen[0]).toMatchObject({ method: "GET", path: "/api/batches/b_1/jobs", query: { status: "failed", q: "r", sort: "finished", limit: "2" } });
    expect(r.out).toContain("boom: it broke");
    expect(r.out).toContain("1 of 9");
  });

  it("results: GET with format (jsonl by default) and status, any content type, the body written as it came", async () => {
    reply = () => ({ status: 200, body: "a,b\n1,2\n", type: "text/csv" });
    const out = path.join(mkdtempSync(path.join(tmpdir(), "bb-cli-")), "r.csv");
    const r = await run(["results", "b_1", "--format", "csv", "--status", "failed", "--output", out]);
    expect(r.code).toBe(0);
    expect(seen[0]).toMatchObject({ method: "GET", path: "/api/batches/b_1/results", query: { format: "csv", status: "failed" } });
    expect(seen[0]!.headers.accept).toBe("*/*");
    expect(readFileSync(out, "utf8")).toBe("a,b\n1,2\n");
    expect(r.err).toBe(`wrote ${out}\n`);
    await run(["results", "b_1", "--output", out]);
    expect(seen[1]!.query).toEqual({ format: "jsonl" });
  });

  it("datasets upload: the file streamed as the body, its format's content type and length, name from the file", async () => {
    reply = () => ({ status: 201, body: { id: "d_1", name: "rows", record_count: 2, id_field: "id" } });
    const file = path.join(mkdtempSync(path.join(tmpdir(), "bb-cli-")), "rows.jsonl");
    writeFileSync(file, '{"id":"a"}\n{"id":"b"}\n');
    const r = await run(["datasets", "upload", file, "--id-field", "id", "--description", "two"]);
    expect(seen[0]).toMatchObject({ method: "POST", path: "/api/datasets", query: { name: "rows", format: "jsonl", id_field: "id", description: "two" }, body: '{"id":"a"}\n{"id":"b"}\n' });
    expect(seen[0]!.headers).toMatchObject({ "content-type": "application/x-ndjson", "content-length": "22" });
    expect(r.out).toBe("uploaded rows (d_1): 2 records, id field id\n");
  });

  it("datasets list and prompts list: their filters, and no limit unless given", async () => {
    reply = () => ({ status: 200, body: page([]) });
    await run(["datasets", "list"]);
    await run(["datasets", "list", "--limit", "7"]);
    await run(["prompts", "list", "--status", "open", "--batch", "b_1", "--cursor", "c"]);
    expect(seen.map((s) => [s.method, s.path, s.query])).toEqual([
      ["GET", "/api/datasets", {}],
      ["GET", "/api/datasets", { limit: "7" }],
      ["GET", "/api/prompts", { status: "open", batch_id: "b_1", cursor: "c" }],
    ]);
  });

  it("prompts answer: JSON when it parses, else the text; flows", async () => {
    reply = (s) => ({ status: 200, body: s.path === "/api/flows" ? { items: [{ name: "echo", default_dataset: null, description: "d" }] } : { id: "p 1", answer: JSON.parse(s.body).answer } });
    expect((await run(["prompts", "answer", "p 1", '{"ok":true}'])).out).toBe('answered p 1: {"ok":true}\n');
    await run(["prompts", "answer", "p 1", "yes please"]);
    expect(seen.map((s) => [s.method, s.path, JSON.parse(s.body)])).toEqual([
      ["POST", "/api/prompts/p%201/answer", { answer: { ok: true } }],
      ["POST", "/api/prompts/p%201/answer", { answer: "yes please" }],
    ]);
    expect((await run(["flows"])).out).toMatch(/NAME\s+DEFAULT_DATASET\s+DESCRIPTION/i);
    expect(seen[2]).toMatchObject({ method: "GET", path: "/api/flows" });
  });

  it("an API error prints its code, status and field paths, exit 1; an unreachable API says how to point at it", async () => {
    reply = () => ({ status: 422, body: { error: { code: "validation_failed", message: "bad", details: [{ path: "chunk_size", message: "no" }] } } });
    const r = await run(["create", "echo"]);
    expect(r.code).toBe(1);
    expect(r.err).toBe("error: validation_failed (422): bad\n  chunk_size: no\n");
    const down = await run(["status", "b_1", "--url", "http://127.0.0.1:1"]);
    expect(down.code).toBe(1);
    expect(down.err).toMatch(/^error: unreachable: cannot reach http:\/\/127\.0\.0\.1:1 \(.+\); is the app running\? Set --url or BATCHBOARD_URL\n$/);
  });
});
