// The /batch job queue API against a real database and worker, in a temporary workspace: validation
// and test jobs (the command flow), file operations (the files flow), each refused with a 422 before
// anything runs when command execution is off or a path leaves the workspace; job status in this
// API's words, lists with status, job_type, limit and offset, cancel and stats.
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { getBatch } from "@/lib/engine";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { waitFor } from "@/test/support/wait";
import { useTestDatabase } from "../helpers/db";
import { api } from "../security/api";
import { callRoute, loadApiRoutes, type ApiRoute, type CallOptions, type Method } from "../helpers/routes";

const base = realpathSync(mkdtempSync(path.join(tmpdir(), "bb-queue-")));
const ws = path.join(base, "workspace");
mkdirSync(path.join(ws, "src"), { recursive: true });
mkdirSync(path.join(ws, "tests"), { recursive: true });
mkdirSync(path.join(base, "outside"));
writeFileSync(path.join(ws, "README.md"), "# hello\n");
writeFileSync(path.join(ws, "src", "config.py"), "def load():\n    return 1\n");
writeFileSync(path.join(ws, "src", "empty.py"), "");
writeFileSync(path.join(ws, "tests", "test_config.py"), "def test_load():\n    pass\n");
writeFileSync(path.join(base, "outside", "secret.txt"), "s3cret\n");
symlinkSync(path.join(base, "outside"), path.join(ws, "out"));

process.env.BATCHBOARD_AUTH = "off";
process.env.BATCHBOARD_WORKSPACE_DIR = ws;
process.env.BATCHBOARD_ENABLE_COMMAND_FLOW = "1";

useTestDatabase();
let worker: WorkerHandle;
let routes: ApiRoute[];

beforeAll(async () => {
  routes = await loadApiRoutes(path.resolve("app/batch"));
  worker = await startWorker({ mode: "in-process", concurrency: 8, pollMs: 50, maintenanceMs: 100, log: () => {} });
});
afterEach(() => {
  process.env.BATCHBOARD_ENABLE_COMMAND_FLOW = "1";
  process.env.BATCHBOARD_WORKSPACE_DIR = ws;
});
afterAll(async () => {
  await worker?.stop(1000);
  rmSync(base, { recursive: true, force: true });
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- responses read freely in assertions

async function call(method: Method, pattern: string, options: CallOptions = {}): Promise<{ status: number; body: Json }> {
  const route = routes.find((r) => r.pattern === pattern);
  if (!route) throw new Error(`no route ${pattern}`);
  const res = await callRoute(route, method, options);
  return { status: res.status, body: (await res.json()) as Json };
}
const post = (p: string, body: unknown) => call("POST", p, { headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const job = (id: string) => call("GET", "/batch/jobs/[id]", { params: { id } });
const until = (id: string, statuses: string[]) =>
  waitFor(`job ${id} to be ${statuses.join("|")}`, async () => {
    const j = await job(id);
    return statuses.includes(j.body.status) && j.body;
  }, 30_000, 50);
const batchCount = async () => (await getPool().query(`SELECT count(*)::int AS n FROM batches`)).rows[0].n as number;

describe("POST /batch/validation and /batch/tests", () => {
  it("run the command per path in the workspace, and answer in this API's job shape", async () => {
    const submitted = await post("/batch/validation", {
      targets: [
        { id: "file1", path: "src/config.py" },
        { id: "file2", path: "src/empty.py" },
        { id: "project1", path: "src" },
      ],
      check_command: "test -s",
      parallel: 5,
    });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
    expect(submitted.body).toMatchObject({
      job_id: expect.any(String),
      job_type: "batch_validation",
      status: expect.stringMatching(/^(queued|running)$/),
      result: null,
      error: null,
      metadata: { total_targets: 3, command: "test -s" },
    });
    expect(submitted.body.created_at).toBeCloseTo(Date.now() / 1000, -1);

    const done = await until(submitted.body.job_id, ["completed"]);
    expect(done.progress).toBe(100);
    expect(done.result.summary).toEqual({ total: 3, successful: 2, failed: 1, skipped: 0 });
    expect(done.result.results.map((r: Json) => [r.id, r.path, r.status])).toEqual([
      ["file1", "src/config.py", "completed"],
      ["file2", "src/empty.py", "failed"],
      ["project1", "src", "completed"],
    ]);
    expect(done.result.results[0].output).toMatchObject({ exit_code: 0 });
    expect(done.result.results[1].error).toContain("exited with 1");
    expect(done.metadata.progress).toMatchObject({ total: 3, processed: 3, successful: 2, failed: 1, skipped: 0, percentage: 100, estimated_remaining_seconds: 0 });
    expect(done.completed_at).toBeGreaterThanOrEqual(done.started_at);
    expect(done.result.elapsed_seconds).toBeCloseTo(done.completed_at - done.started_at, 2);

    // an ordinary command batch underneath, run in the workspace
    const batch = await getBatch(submitted.body.job_id);
    expect(batch).toMatchObject({ flow: "command", parameters: { command: "test -s {{record.path}}", workspace_path: ".", stdin: "none" } });
    // the server's directory layout is not shown to API clients: the workspace is named relative to itself
    const read = await api("GET", "/api/batches/[id]", { params: { id: submitted.body.job_id } });
    expect(read.status).toBe(200);
    expect(read.text).not.toContain(ws);
    expect(batch).toMatchObject({ concurrency: 5, shuffle: false });
  });

  it("tests: the module's path where {{record.path}} stands, else appended; output kept", async () => {
    const submitted = await post("/batch/tests", {
      modules: [{ id: "test_config", path: "tests/test_config.py" }],
      test_command: "grep -c def {{record.path}} && pwd",
    });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
    const done = await until(submitted.body.job_id, ["completed"]);
    expect(done.job_type).toBe("batch_tests");
    expect(done.result.results[0]).toMatchObject({ id: "test_config", status: "completed", output: { exit_code: 0, stdout: `1\n${ws}\n` } });
    expect(done.metadata.total_modules).toBe(1);
  });

  it("422 before anything is created when command execution is off, or no workspace is configured", async () => {
    const before = await batchCount();
    delete process.env.BATCHBOARD_ENABLE_COMMAND_FLOW;
    for (const [p, body] of [
      ["/batch/validation", { targets: [{ id: "a", path: "src" }] }],
      ["/batch/tests", { modules: [{ id: "a", path: "tests" }] }],
    ] as const) {
      const res = await post(p, body);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.message).toContain("BATCHBOARD_ENABLE_COMMAND_FLOW=1");
    }
    process.env.BATCHBOARD_ENABLE_COMMAND_FLOW = "1";
    process.env.BATCHBOARD_WORKSPACE_DIR = path.join(base, "no-such-dir");
    const noWorkspace = await post("/batch/validation", { targets: [{ id: "a", path: "src" }] });
    expect(noWorkspace.status).toBe(422);
    expect(noWorkspace.body.error.message).toContain("BATCHBOARD_WORKSPACE_DIR");
    expect(await batchCount()).toBe(before);
  });

  it("refuses paths leaving the workspace: `..`, absolute, through a symbolic link, with a NUL byte", async () => {
    const before = await batchCount();
    const res = await post("/batch/validation", {
      targets: [
        { id: "ok", path: "src/config.py" },
        { id: "up", path: "../outside/secret.txt" },
        { id: "abs", path: "/etc/passwd" },
        { id: "link", path: "out/secret.txt" },
      ],
      check_command: "cat",
    });
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: Json) => d.path)).toEqual(["targets.1.path", "targets.2.path", "targets.3.path"]);
    const nul = await post("/batch/tests", { modules: [{ id: "n", path: "tests/test_config.py\u0000.txt" }] });
    expect(nul.status).toBe(422);
    expect(nul.body.error.details[0].path).toBe("modules.0.path");
    expect(await batchCount()).toBe(before);
  });

  it("refuses a bad body with 422 naming the field", async () => {
    for (const [body, field] of [
      [{}, "targets"],
      [{ targets: [] }, "targets"],
      [{ targets: [{ id: "a" }] }, "targets.0.path"],
      [{ targets: [{ id: "a", path: "src" }], parallel: 0 }, "parallel"],
      [{ targets: [{ id: "a", path: "src" }], chek_command: "x" }, "chek_command"],
    ] as const) {
      const res = await post("/batch/validation", body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.details.map((d: Json) => d.path)).toContain(field);
    }
  });
});

describe("the command flow's workspace_path", () => {
  it("runs in a directory of the workspace found when the job runs; a path leading out fails path_refused", async () => {
    const { createBatch } = await import("@/lib/engine");
    const records = [{ id: "1" }];
    const inside = await createBatch({ flow: "command", parameters: { command: "pwd", stdin: "none", workspace_path: "src" }, source: { kind: "records", records, recordIdField: "id" } });
    const outside = await createBatch({ flow: "command", parameters: { command: "pwd", stdin: "none", workspace_path: "out" }, source: { kind: "records", records, recordIdField: "id" } });
    await waitFor("both batches", async () => (await getBatch(inside.id)).status === "completed" && (await getBatch(outside.id)).status === "completed");
    const row = async (id: string) => (await getPool().query(`SELECT result, error_code FROM jobs WHERE batch_id = $1`, [id])).rows[0];
    expect((await row(inside.id)).result.stdout).toBe(`${path.join(ws, "src")}\n`);
    expect((await row(outside.id)).error_code).toBe("path_refused");
  });
});

describe("POST /batch/mcp-operations", () => {
  it("reads, lists, writes and runs commands in the workspace", async () => {
    const submitted = await post("/batch/mcp-operations", {
      operations: [
        { type: "read", path: "README.md" },
        { type: "list", path: "src/" },
        { type: "write", path: "output.txt", content: "Hello World" },
        { type: "command", command: "ls README.md" },
      ],
      parallel: 1,
    });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
    expect(submitted.body).toMatchObject({ job_type: "batch_mcp_operations", metadata: { total_operations: 4 } });
    const done = await until(submitted.body.job_id, ["completed"]);
    expect(done.result.summary).toEqual({ total: 4, successful: 4, failed: 0, skipped: 0 });
    const [read, list, write, command] = done.result.results;
    expect(read).toMatchObject({ type: "read", path: "README.md", status: "completed", output: { content: "# hello\n", bytes: 8, truncated: false } });
    expect(list.output.entries).toEqual([
      { name: "config.py", type: "file" },
      { name: "empty.py", type: "file" },
    ]);
    expect(write.output).toMatchObject({ type: "write", path: "output.txt", bytes: 11 });
    expect(readFileSync(path.join(ws, "output.txt"), "utf8")).toBe("Hello World");
    expect(command.output).toMatchObject({ type: "command", command: "ls README.md", exit_code: 0, stdout: "README.md\n" });
  });

  it("reads and lists with command execution off; a write or command is a 422 naming it, and nothing runs", async () => {
    delete process.env.BATCHBOARD_ENABLE_COMMAND_FLOW;
    const readOnly = await post("/batch/mcp-operations", { operations: [{ type: "read", path: "README.md" }, { type: "list", path: "." }] });
    expect(readOnly.status, JSON.stringify(readOnly.body)).toBe(200);
    const done = await until(readOnly.body.job_id, ["completed"]);
    expect(done.result.summary.successful).toBe(2);

    const before = await batchCount();
    const refused = await post("/batch/mcp-operations", {
      operations: [
        { type: "read", path: "README.md" },
        { type: "write", path: "x.txt", content: "no" },
        { type: "command", command: "touch y.txt" },
      ],
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toContain("BATCHBOARD_ENABLE_COMMAND_FLOW=1");
    expect(refused.body.error.details.map((d: Json) => d.path)).toEqual(["operations.1.type", "operations.2.type"]);
    expect(await batchCount()).toBe(before);
  });

  it("refuses paths leaving the workspace, and a symlink swapped in later is refused when the item runs", async () => {
    const res = await post("/batch/mcp-operations", { operations: [{ type: "read", path: "out/secret.txt" }, { type: "write", path: "../escape.txt", content: "x" }] });
    expect(res.status).toBe(422);
    expect(res.body.error.details.map((d: Json) => d.path)).toEqual(["operations.0.path", "operations.1.path"]);

    // a file operations batch made directly: the flow checks again at run time
    const direct = await (await import("@/lib/engine")).createBatch({
      flow: "files",
      source: { kind: "records", records: [{ id: "1", type: "read", path: "out/secret.txt" }], recordIdField: "id" },
    });
    await waitFor("the direct batch", async () => (await getBatch(direct.id)).status === "completed");
    const { rows } = await getPool().query(`SELECT error_code, error_message FROM jobs WHERE batch_id = $1`, [direct.id]);
    expect(rows[0]).toMatchObject({ error_code: "path_refused", error_message: expect.stringContaining("outside the workspace") });
  });
});

describe("GET /batch/jobs, DELETE, stats", () => {
  it("lists newest first by status and job_type with limit and offset; cancels; counts", async () => {
    const slow = await post("/batch/tests", { modules: [{ id: "slow", path: "tests" }], test_command: "sleep 30 #" });
    expect(slow.status).toBe(200);
    await until(slow.body.job_id, ["running"]);
    const running = await call("GET", "/batch/jobs", { query: "status=running" });
    expect(running.body.jobs.map((j: Json) => j.job_id)).toContain(slow.body.job_id);
    expect(running.body.jobs.every((j: Json) => j.status === "running" && j.result === null)).toBe(true);

    const stats = await call("GET", "/batch/stats");
    expect(stats.body.stats.running).toBeGreaterThanOrEqual(1);
    const { rows } = await getPool().query(`SELECT count(*)::int AS n FROM adapter_jobs WHERE surface = 'job-queue'`);
    expect(stats.body.stats.total).toBe(rows[0].n);

    const cancelled = await call("DELETE", "/batch/jobs/[id]", { params: { id: slow.body.job_id } });
    expect(cancelled).toEqual({ status: 200, body: { status: "cancelled", job_id: slow.body.job_id } });
    expect((await job(slow.body.job_id)).body).toMatchObject({ status: "cancelled", result: { summary: { total: 1, skipped: 1 } } });
    const again = await call("DELETE", "/batch/jobs/[id]", { params: { id: slow.body.job_id } });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toBe("Job cannot be cancelled: it is already cancelled");
    expect((await call("DELETE", "/batch/jobs/[id]", { params: { id: "nope" } })).status).toBe(404);
    expect((await job("nope")).status).toBe(404);

    const all = await call("GET", "/batch/jobs");
    expect(all.body.total).toBe(rows[0].n);
    const created = all.body.jobs.map((j: Json) => j.created_at);
    expect([...created].sort((a, b) => b - a)).toEqual(created);
    const page = await call("GET", "/batch/jobs", { query: "limit=2&offset=1" });
    expect(page.body.jobs.map((j: Json) => j.job_id)).toEqual(all.body.jobs.slice(1, 3).map((j: Json) => j.job_id));
    expect(page.body.total).toBe(all.body.total);
    const tests = await call("GET", "/batch/jobs", { query: "job_type=batch_tests&status=cancelled" });
    expect(tests.body.jobs.map((j: Json) => j.job_id)).toEqual([slow.body.job_id]);
    expect(tests.body.total).toBe(1);
    for (const q of ["status=pending", "limit=0", "offset=-1"]) expect((await call("GET", "/batch/jobs", { query: q })).status).toBe(422);
  });

  it("names, while a job runs, the item whose run started last; a finished item does not count", async () => {
    const slow = await post("/batch/tests", { modules: [{ id: "first", path: "tests" }, { id: "second", path: "src" }, { id: "done", path: "." }], test_command: "sleep 30 #", parallel: 3 });
    expect(slow.status).toBe(200);
    const id = slow.body.job_id as string;
    const started = async () =>
      (await getPool().query(`SELECT count(*)::int AS n FROM jobs WHERE batch_id = $1 AND status = 'running' AND started_at IS NOT NULL`, [id])).rows[0].n as number;
    await waitFor("all three items to start", async () => (await started()) === 3, 30_000, 50);
    // the start times set by hand, so which one is the latest does not depend on the worker's timing
    const startAt = (record: string, secondsAgo: number) =>
      getPool().query(`UPDATE jobs SET started_at = now() - make_interval(secs => $3) WHERE batch_id = $1 AND record_id = $2`, [id, record, secondsAgo]);
    const current = async () => (await job(id)).body.metadata.progress.current_item as string | null;

    await startAt("first", 1);
    await startAt("second", 2);
    await startAt("done", 3);
    expect(await current()).toBe("first");
    await startAt("second", 0.5);
    expect(await current()).toBe("second");
    // an item that is no longer running is not the current one, however late it started
    await getPool().query(`UPDATE jobs SET status = 'succeeded', started_at = now() WHERE batch_id = $1 AND record_id = 'done'`, [id]);
    expect(await current()).toBe("second");

    expect((await call("DELETE", "/batch/jobs/[id]", { params: { id } })).status).toBe(200);
    expect((await job(id)).body.metadata.progress.current_item).toBeNull();
  });

  it("an unknown /batch path is a 404 in the standard error body", async () => {
    const res = await call("GET", "/batch/[...slug]", { params: { slug: "agent-taskz" } });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
  });
});
