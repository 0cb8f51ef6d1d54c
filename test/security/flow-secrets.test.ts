// Flows read only the environment variables an operator lists in BATCHBOARD_FLOW_SECRETS, never
// the server's own (BATCHBOARD_*, DATABASE_URL, PG*), and a secret's value never reaches anything
// stored: job errors, logs, results, exports.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { useTestDatabase } from "../helpers/db";
import { api, createBatch, finished } from "./api";

process.env.BATCHBOARD_AUTH = "off";
useTestDatabase();

const SECRET = "sk-test-9fQ2vX7LmW4pZ8rT"; // the value that must never be shown
const saved = { list: process.env.BATCHBOARD_FLOW_SECRETS, allow: process.env.BATCHBOARD_HTTP_ALLOWLIST };

// a stand-in for an API that echoes what it was sent (as some do, in errors especially)
const seen: IncomingMessage["headers"][] = [];
let reply: (req: IncomingMessage) => { status: number; body: string } = () => ({ status: 200, body: "{}" });
const server = createServer((req, res) => {
  seen.push(req.headers);
  req.resume();
  req.on("end", () => {
    const { status, body } = reply(req);
    res.writeHead(status, { "content-type": status < 300 ? "application/json" : "text/plain" }).end(body);
  });
});
let url: string;

/** Runs a batch to its end on a worker started for it: a test can change the batch or the environment before. */
async function runToEnd(id: string) {
  const worker: WorkerHandle = await startWorker({ mode: "in-process", concurrency: 4, pollMs: 50, maintenanceMs: 200, log: () => {} });
  try {
    return await finished(id);
  } finally {
    await worker.stop(1000);
  }
}

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  process.env.TEST_FLOW_TOKEN = SECRET;
  process.env.BATCHBOARD_FLOW_SECRETS = "OTHER_KEY, TEST_FLOW_TOKEN";
  process.env.BATCHBOARD_HTTP_ALLOWLIST = "127.0.0.1";
  seen.length = 0;
});
afterEach(() => {
  for (const [k, v] of [["BATCHBOARD_FLOW_SECRETS", saved.list], ["BATCHBOARD_HTTP_ALLOWLIST", saved.allow]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  delete process.env.TEST_FLOW_TOKEN;
});

const httpBatch = (headers: Record<string, unknown>, extra: object = {}) =>
  createBatch({ flow: "http", parameters: { url: `${url}/score`, headers }, records: [{ id: "r1", text: "hi" }], max_retries: 2, retry_backoff_ms: 1, ...extra });

function detailPaths(res: { json: { error?: { details?: { path?: string }[] } } }): string[] {
  return (res.json.error?.details ?? []).map((d) => d.path ?? "");
}

/** Everything a reader can see of a batch's outcome: jobs, job detail (errors, logs), exports. */
async function everythingShown(id: string): Promise<string> {
  const texts = [
    (await api("GET", "/api/batches/[id]/jobs", { params: { id }, query: "limit=100" })).text,
    (await api("GET", "/api/batches/[id]/jobs/[recordId]", { params: { id, recordId: "r1" } })).text,
    ...(await Promise.all(["jsonl", "csv", "openai"].map(async (f) => (await api("GET", "/api/batches/[id]/results", { params: { id }, query: `format=${f}` })).text))),
  ];
  const { rows } = await getPool().query(`SELECT error_message, logs::text, result::text FROM jobs WHERE batch_id = $1`, [id]);
  return [...texts, JSON.stringify(rows)].join("\n");
}

describe("which variables a flow may read", () => {
  it("refuses at creation a variable that is not listed, naming the field", async () => {
    const res = await httpBatch({ Authorization: { env: "HOME", prefix: "Bearer " } });
    expect(res.status).toBe(422);
    expect(detailPaths(res)).toContain("parameters.headers.Authorization.env");
    expect(res.text).toContain("BATCHBOARD_FLOW_SECRETS");

    const llm = await createBatch({ flow: "llm", parameters: { base_url: url, model: "m", api_key_env: "HOME" }, records: ["x"] });
    expect(llm.status).toBe(422);
    expect(detailPaths(llm)).toContain("parameters.api_key_env");
    const embed = await createBatch({ flow: "embed", parameters: { base_url: url, model: "m", api_key_env: "HOME" }, records: ["x"] });
    expect(embed.status).toBe(422);
    expect(detailPaths(embed)).toContain("parameters.api_key_env");
  });

  it("refuses the server's own settings even when listed", async () => {
    process.env.BATCHBOARD_FLOW_SECRETS = "DATABASE_URL,BATCHBOARD_ADMIN_TOKEN,PGPASSWORD,TEST_FLOW_TOKEN";
    for (const name of ["DATABASE_URL", "BATCHBOARD_ADMIN_TOKEN", "PGPASSWORD"]) {
      const res = await httpBatch({ "X-Upstream": { env: name } });
      expect(res.status, name).toBe(422);
      expect(detailPaths(res)).toContain("parameters.headers.X-Upstream.env");
      const llm = await createBatch({ flow: "llm", parameters: { base_url: url, model: "m", api_key_env: name }, records: ["x"] });
      expect(llm.status, name).toBe(422);
      expect(detailPaths(llm)).toContain("parameters.api_key_env");
    }
    const { rows } = await getPool().query(`SELECT count(*)::int AS n FROM batches`);
    expect(rows[0].n).toBe(0);
  });

  it("says so in the JSON Schema GET /api/flows serves", async () => {
    const flows = (await api("GET", "/api/flows")).json.items as { name: string }[];
    for (const name of ["http", "llm", "embed"]) {
      expect(JSON.stringify(flows.find((f) => f.name === name)), name).toContain("BATCHBOARD_FLOW_SECRETS");
    }
  });

  it("sends a listed variable", async () => {
    reply = () => ({ status: 200, body: '{"ok":true}' });
    const res = await httpBatch({ Authorization: { env: "TEST_FLOW_TOKEN", prefix: "Bearer " } });
    expect(res.status).toBe(201);
    expect((await runToEnd(res.json.id)).succeeded).toBe(1);
    expect(seen[0]?.authorization).toBe(`Bearer ${SECRET}`);
  });

  it("fails the record for good when the variable left the list after the batch was created", async () => {
    const res = await httpBatch({ Authorization: { env: "TEST_FLOW_TOKEN", prefix: "Bearer " } });
    expect(res.status).toBe(201);
    // the operator took it off the list; the batch's parameters still name it
    process.env.BATCHBOARD_FLOW_SECRETS = "OTHER_KEY";
    const done = await runToEnd(res.json.id);
    expect(done.failed).toBe(1);
    const { rows } = await getPool().query(`SELECT attempts, error_code, error_message, error_retryable FROM jobs WHERE batch_id = $1`, [res.json.id]);
    expect(rows[0]).toMatchObject({ attempts: 1, error_code: "secret_not_allowed", error_retryable: false });
    expect(rows[0].error_message).toContain("BATCHBOARD_FLOW_SECRETS");
    expect(seen).toHaveLength(0);
  });
});

describe("control characters in headers", () => {
  it("are a 422 at creation in a prefix or a literal value", async () => {
    const prefixed = await httpBatch({ "X-Token-Ref": { env: "TEST_FLOW_TOKEN", prefix: "a\nb" } });
    expect(prefixed.status).toBe(422);
    expect(detailPaths(prefixed)).toContain("parameters.headers.X-Token-Ref.prefix");
    for (const value of ["x\r\nInjected: 1", "x\u0007y", "x\u007fy"]) {
      const literal = await httpBatch({ "X-Static": value });
      expect(literal.status, JSON.stringify(value)).toBe(422);
      expect(detailPaths(literal)).toContain("parameters.headers.X-Static");
    }
    const nul = await httpBatch({ "X-Static": { env: "TEST_FLOW_TOKEN", prefix: "a\u0000" } });
    expect(nul.status).toBe(422);
    expect(detailPaths(nul)).toContain("parameters.headers.X-Static.prefix");
  });
});

describe("secret values never reach stored text", () => {
  it("a prefix holding a newline (a batch stored before the rule) does not put the value in the job's error", async () => {
    const res = await httpBatch({ "X-Token-Ref": { env: "TEST_FLOW_TOKEN", prefix: "Bearer " } });
    await getPool().query(`UPDATE batches SET parameters = jsonb_set(parameters, '{headers,X-Token-Ref,prefix}', '"a\\nb"') WHERE id = $1`, [res.json.id]);
    const done = await runToEnd(res.json.id);
    expect(done.failed).toBe(1);
    expect(seen).toHaveLength(0);
    const shown = await everythingShown(res.json.id);
    expect(shown).toContain("X-Token-Ref");
    expect(shown).not.toContain(SECRET);
  });

  it("an API echoing the secret back (an error body, a result) is stored with the value redacted", async () => {
    const echo = (req: IncomingMessage) => `you sent ${req.headers.authorization}`;
    reply = (req) => ({ status: 400, body: echo(req) });
    const failed = await httpBatch({ Authorization: { env: "TEST_FLOW_TOKEN", prefix: "Bearer " } });
    await runToEnd(failed.json.id);
    const failedText = await everythingShown(failed.json.id);
    expect(failedText).toContain("you sent Bearer [redacted]");
    expect(failedText).not.toContain(SECRET);

    reply = (req) => ({ status: 200, body: JSON.stringify({ headers: { authorization: req.headers.authorization }, [SECRET]: "as a key" }) });
    const ok = await httpBatch({ Authorization: { env: "TEST_FLOW_TOKEN", prefix: "Bearer " } });
    expect((await runToEnd(ok.json.id)).succeeded).toBe(1);
    const okText = await everythingShown(ok.json.id);
    expect(okText).toContain("Bearer [redacted]");
    expect(okText).not.toContain(SECRET);
  });
});
