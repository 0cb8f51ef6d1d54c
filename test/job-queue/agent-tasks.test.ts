// POST /batch/agent-tasks against a real database and worker, with a scripted OpenAI-compatible chat
// server on 127.0.0.1 playing the coder and the reviewer: the loop (check, review, feedback into the
// next prompt), not_approved after max_loops with the result kept, proposals leaving the task's
// directory refused, malformed answers, cancel, and the 422s before anything is created.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { createBatch, getBatch } from "@/lib/engine";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { waitFor } from "@/test/support/wait";
import { startTestServer, type SeenRequest, type TestServer } from "../flows/server";
import { useTestDatabase } from "../helpers/db";
import { callRoute, loadApiRoutes, type ApiRoute, type CallOptions, type Method } from "../helpers/routes";

const base = realpathSync(mkdtempSync(path.join(tmpdir(), "bb-agent-")));
const ws = path.join(base, "workspace");
const template = path.join(base, "template");
mkdirSync(ws);
mkdirSync(path.join(template, "src"), { recursive: true });
mkdirSync(path.join(base, "outside"));
writeFileSync(path.join(template, "README.md"), "# project\n");
writeFileSync(path.join(template, "src", "app.txt"), "one\ntwo\nthree\n");
symlinkSync(path.join(base, "outside"), path.join(template, "out"));

const server: TestServer = await startTestServer();
process.env.BATCHBOARD_AUTH = "off";
process.env.BATCHBOARD_WORKSPACE_DIR = ws;
process.env.BATCHBOARD_AGENT_TEMPLATE_DIR = template;
process.env.BATCHBOARD_ENABLE_COMMAND_FLOW = "1";
process.env.BATCHBOARD_HTTP_ALLOWLIST = "127.0.0.1";
process.env.OPENAI_BASE_URL = `${server.url}/v1`;
delete process.env.OPENAI_API_KEY;

useTestDatabase();
let worker: WorkerHandle;
let routes: ApiRoute[];

beforeAll(async () => {
  routes = await loadApiRoutes(path.resolve("app/batch"));
  worker = await startWorker({ mode: "in-process", concurrency: 4, pollMs: 50, maintenanceMs: 100, log: () => {} });
});
afterEach(() => {
  process.env.BATCHBOARD_ENABLE_COMMAND_FLOW = "1";
  process.env.BATCHBOARD_WORKSPACE_DIR = ws;
  process.env.BATCHBOARD_AGENT_TEMPLATE_DIR = template;
  server.requests.length = 0;
});
afterAll(async () => {
  await worker?.stop(1000);
  await server.close();
  rmSync(base, { recursive: true, force: true });
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- responses read freely in assertions

async function call(method: Method, pattern: string, options: CallOptions = {}): Promise<{ status: number; body: Json }> {
  const route = routes.find((r) => r.pattern === pattern);
  if (!route) throw new Error(`no route ${pattern}`);
  const res = await callRoute(route, method, options);
  return { status: res.status, body: (await res.json()) as Json };
}
const post = (body: unknown) => call("POST", "/batch/agent-tasks", { headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const until = (id: string, statuses: string[]) =>
  waitFor(`job ${id} to be ${statuses.join("|")}`, async () => {
    const j = await call("GET", "/batch/jobs/[id]", { params: { id } });
    return statuses.includes(j.body.status) && j.body;
  }, 30_000, 50);
const batchCount = async () => (await getPool().query(`SELECT count(*)::int AS n FROM batches`)).rows[0].n as number;
const jobRow = async (batchId: string) =>
  (await getPool().query(`SELECT status, error_code, error_message, logs, result FROM jobs WHERE batch_id = $1 ORDER BY position`, [batchId])).rows;

/** A chat completion whose message is `content` (JSON-encoded unless a string). */
const answer = (content: unknown) => ({
  json: {
    choices: [{ index: 0, message: { role: "assistant", content: typeof content === "string" ? content : JSON.stringify(content) }, finish_reason: "stop" }],
    usage: { prompt_tokens: 10, completion_tokens: 5 },
  },
});
const sent = (r: SeenRequest) => JSON.parse(r.body) as { model: string; messages: { role: string; content: string }[]; response_format?: Json };
const proposal = (files: { path: string; content: string }[], del: string[] = []) => answer({ summary: "a change", files, delete: del });
const review = (verdict: "approved" | "changes_requested", comments: string) => answer({ verdict, comments });

describe("POST /batch/agent-tasks", () => {
  it("loops until the check passes and the reviewer approves, feeding the check's output and the comments back", async () => {
    server.reply(
      proposal([{ path: "hello.txt", content: "Hello\n" }]),
      review("changes_requested", "it must greet the World"),
      proposal([{ path: "hello.txt", content: "Hello World\n" }, { path: "src/app.txt", content: "one\n2\nthree\n" }]),
      review("approved", "looks right"),
    );
    const submitted = await post({
      tasks: [{ id: "task1", description: "Create hello.txt that says Hello World" }],
      check_command: "grep World hello.txt",
      max_loops: 4,
      coder_model: "coder-m",
      reviewer_model: "reviewer-m",
    });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
    expect(submitted.body).toMatchObject({ job_type: "batch_agent_tasks", status: expect.stringMatching(/^(queued|running)$/), metadata: { total_tasks: 1 } });

    const done = await until(submitted.body.job_id, ["completed", "failed"]);
    expect(done.result.summary).toEqual({ total: 1, successful: 1, failed: 0, skipped: 0 });
    const item = done.result.results[0];
    expect(item).toMatchObject({ id: "task1", status: "completed", error: null });
    expect(item.output).toMatchObject({
      task_id: "task1",
      loops: 2,
      approved: true,
      passed: true,
      verdict: "approved",
      comments: "looks right",
      check: { command: "grep World hello.txt", exit_code: 0, output: "Hello World\n" },
      files_changed: ["hello.txt", "src/app.txt"],
      workspace: `agent-tasks/${submitted.body.job_id}/1-task1`,
    });
    expect(item.output.diff).toBe(
      "--- /dev/null\n+++ b/hello.txt\n@@ -0,0 +1 @@\n+Hello World\n--- a/src/app.txt\n+++ b/src/app.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n",
    );
    expect(item.output.history.map((h: Json) => [h.loop, h.check, h.review.verdict])).toEqual([
      [1, { exit_code: 1, passed: false }, "changes_requested"],
      [2, { exit_code: 0, passed: true }, "approved"],
    ]);

    // the task's directory: the template's copy with the changes, under the workspace
    const dir = path.join(ws, item.output.workspace);
    expect(readFileSync(path.join(dir, "hello.txt"), "utf8")).toBe("Hello World\n");
    expect(readFileSync(path.join(dir, "README.md"), "utf8")).toBe("# project\n");

    // coder, reviewer, coder, reviewer; the second coder prompt carries the failed check and the comments
    const calls = server.requests.map(sent);
    expect(calls.map((c) => c.model)).toEqual(["coder-m", "reviewer-m", "coder-m", "reviewer-m"]);
    expect(server.requests.every((r) => r.url === "/v1/chat/completions")).toBe(true);
    expect(calls[0]!.response_format).toMatchObject({ type: "json_schema", json_schema: { name: "proposal", strict: true } });
    expect(calls[1]!.response_format).toMatchObject({ type: "json_schema", json_schema: { name: "review" } });
    expect(calls[0]!.messages[1]!.content).toContain("=== src/app.txt\none\ntwo\nthree");
    expect(calls[1]!.messages[1]!.content).toContain("+Hello");
    expect(calls[2]!.messages[1]!.content).toContain("The check failed (exit code 1)");
    expect(calls[2]!.messages[1]!.content).toContain("The reviewer asked for changes: it must greet the World");

    const [row] = await jobRow(submitted.body.job_id);
    expect(row.logs.map((l: Json) => l.message)).toEqual([
      "loop 1/4: 1 written, 0 deleted; check failed (exit 1); reviewer: changes_requested",
      "loop 2/4: 2 written, 0 deleted; check passed; reviewer: approved",
    ]);
    const batch = await getBatch(submitted.body.job_id);
    expect(batch).toMatchObject({ flow: "agent", parameters: { coder_model: "coder-m", reviewer_model: "reviewer-m", max_loops: 4, check_command: "grep World hello.txt" } });
  });

  it("fails not_approved after max_loops when the reviewer never approves, keeping the result", async () => {
    server.reply(
      proposal([{ path: "a.txt", content: "first\n" }]),
      review("changes_requested", "no"),
      proposal([{ path: "a.txt", content: "second\n" }], ["README.md"]),
      review("changes_requested", "still no: add tests"),
    );
    const submitted = await post({ tasks: [{ id: "t", description: "do it" }], max_loops: 2 });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
    const done = await until(submitted.body.job_id, ["completed", "failed"]);
    const item = done.result.results[0];
    expect(item.status).toBe("failed");
    expect(item.error).toBe("after 2 loops the reviewer has not approved: still no: add tests");
    expect(item.output).toMatchObject({ loops: 2, approved: false, passed: true, verdict: "changes_requested", comments: "still no: add tests", check: null });
    expect(item.output.diff).toBe("--- a/README.md\n+++ /dev/null\n@@ -1 +0,0 @@\n-# project\n--- /dev/null\n+++ b/a.txt\n@@ -0,0 +1 @@\n+second\n");
    const [row] = await jobRow(submitted.body.job_id);
    expect(row).toMatchObject({ status: "failed", error_code: "not_approved" });
    expect(row.result.loops).toBe(2);
    // the defaults: no check command runs; the default models are asked
    expect(server.requests.map((r) => sent(r).model)).toEqual(["qwen2.5-coder:7b", "llama3.2", "qwen2.5-coder:7b", "llama3.2"]);
  });

  it("refuses proposals leaving the task's directory (`..`, absolute, through a symlink): nothing of them is written", async () => {
    const absolute = path.join(base, "outside", "abs.txt");
    server.reply(
      proposal([{ path: "fine.txt", content: "x" }, { path: "../escape.txt", content: "x" }]),
      proposal([{ path: absolute, content: "x" }]),
      proposal([{ path: "out/pwned.txt", content: "x" }]),
      proposal([], ["../../../outside"]),
    );
    const submitted = await post({ tasks: [{ id: "evil", description: "escape" }], max_loops: 4 });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
    const done = await until(submitted.body.job_id, ["completed", "failed"]);
    const item = done.result.results[0];
    expect(item.status).toBe("failed");
    expect(item.output.history.map((h: Json) => h.error?.code)).toEqual(["path_refused", "path_refused", "path_refused", "path_refused"]);
    expect(item.output.history[0].error.message).toContain("must not contain `..`");
    expect(item.output.history[1].error.message).toContain("not absolute");
    expect(item.output.history[2].error.message).toContain("through a symbolic link");
    expect(item.output).toMatchObject({ loops: 4, approved: false, diff: "", files_changed: [] });
    expect((await jobRow(submitted.body.job_id))[0].error_code).toBe("path_refused");
    // only the coder was asked: a refused proposal is not reviewed
    expect(server.requests).toHaveLength(4);
    const dir = path.join(ws, item.output.workspace);
    expect(existsSync(path.join(dir, "fine.txt"))).toBe(false);
    expect(existsSync(path.join(dir, "..", "escape.txt"))).toBe(false);
    expect(existsSync(absolute)).toBe(false);
    expect(existsSync(path.join(base, "outside", "pwned.txt"))).toBe(false);
    expect(existsSync(path.join(base, "outside"))).toBe(true);
  });

  it("a malformed answer is a clear error for its loop, tried again within max_loops", async () => {
    server.reply(
      answer("Sure! Here is the code you asked for."),
      answer({ files: "hello.txt" }),
      proposal([{ path: "ok.txt", content: "ok\n" }]),
      answer({ verdict: "maybe" }),
      proposal([{ path: "ok.txt", content: "ok\n" }]),
      review("approved", ""),
    );
    const submitted = await post({ tasks: [{ id: "t", description: "write ok.txt" }], max_loops: 4, coder_model: "c", reviewer_model: "r" });
    const done = await until(submitted.body.job_id, ["completed", "failed"]);
    const item = done.result.results[0];
    expect(item.status, JSON.stringify(item)).toBe("completed");
    expect(item.output).toMatchObject({ loops: 4, approved: true, passed: true });
    const errors = item.output.history.map((h: Json) => h.error);
    expect(errors[0]).toEqual({ code: "invalid_model_output", message: "c's proposal is not JSON: Sure! Here is the code you asked for." });
    expect(errors[1]).toMatchObject({ code: "invalid_model_output", message: expect.stringContaining("c's proposal does not have the expected shape: files:") });
    expect(errors[2]).toMatchObject({ code: "invalid_model_output", message: expect.stringContaining("r's review does not have the expected shape: verdict:") });
    expect(errors[3]).toBeNull();
    expect(sent(server.requests[1]!).messages[1]!.content).toContain("Your answer could not be used: c's proposal is not JSON");

    // every loop malformed: the task fails with that error
    server.requests.length = 0;
    server.reply(answer("```json\n{\"files\": [{\"path\": 3}]}\n```"));
    const bad = await post({ tasks: [{ id: "t", description: "x" }], max_loops: 1 });
    const failed = await until(bad.body.job_id, ["completed", "failed"]);
    expect(failed.result.results[0].status).toBe("failed");
    expect(failed.result.results[0].error).toMatch(/^after 1 loops: .*proposal does not have the expected shape: files\.0\.path/);
    expect((await jobRow(bad.body.job_id))[0].error_code).toBe("invalid_model_output");
  });

  it("cancel stops a running check command", async () => {
    server.reply(proposal([{ path: "a.txt", content: "a\n" }]));
    const submitted = await post({ tasks: [{ id: "slow", description: "x" }], check_command: "sh -c 'echo $$ > sleeper.pid; exec sleep 30'" });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
    const pidFile = path.join(ws, "agent-tasks", submitted.body.job_id, "1-slow", "sleeper.pid");
    const pid = await waitFor("the check to start", async () => existsSync(pidFile) && Number(readFileSync(pidFile, "utf8")));
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(alive()).toBe(true);
    const cancelled = await call("DELETE", "/batch/jobs/[id]", { params: { id: submitted.body.job_id } });
    expect(cancelled.body).toEqual({ status: "cancelled", job_id: submitted.body.job_id });
    await until(submitted.body.job_id, ["cancelled"]);
    await waitFor("the task to stop", async () => (await jobRow(submitted.body.job_id))[0].status === "cancelled");
    await waitFor("the check command to be killed", async () => !alive());
    expect(server.requests).toHaveLength(1);
  });

  it("accepts the documented example as sent, and records chunk_size", async () => {
    server.reply((r) => (sent(r).model === "llama3.2" ? review("approved", "fine") : proposal([{ path: "hello.py", content: 'print("Hello World")\n' }])));
    const quick = await post({
      tasks: [
        { id: "task1", description: "Create hello.py that prints Hello World" },
        { id: "task2", description: "Add unit tests for hello.py" },
      ],
      parallel: 3,
    });
    expect(quick.status, JSON.stringify(quick.body)).toBe(200);
    expect(quick.body.metadata).toMatchObject({ total_tasks: 2, chunk_size: null });
    const done = await until(quick.body.job_id, ["completed", "failed"]);
    expect(done.result.summary).toEqual({ total: 2, successful: 2, failed: 0, skipped: 0 });
    expect(done.result.results.map((r: Json) => [r.id, r.output.workspace])).toEqual([
      ["task1", `agent-tasks/${quick.body.job_id}/1-task1`],
      ["task2", `agent-tasks/${quick.body.job_id}/2-task2`],
    ]);

    const chunked = await post({ tasks: [{ id: "a", description: "x" }], chunk_size: 10, parallel: 3, check_command: "true", max_loops: 16, coder_model: "qwen2.5-coder:7b", reviewer_model: "llama3.2" });
    expect(chunked.status, JSON.stringify(chunked.body)).toBe(200);
    expect(chunked.body.metadata).toMatchObject({ total_tasks: 1, chunk_size: 10 });
    const listed = await call("GET", "/batch/jobs", { query: "job_type=batch_agent_tasks" });
    expect(listed.body.jobs.find((j: Json) => j.job_id === chunked.body.job_id).metadata.chunk_size).toBe(10);
    await until(chunked.body.job_id, ["completed", "failed"]);
  });

  it("422 before anything is created: bad bodies, a check command with command execution off, no workspace", async () => {
    const before = await batchCount();
    const task = { id: "a", description: "x" };
    for (const [body, field] of [
      [{}, "tasks"],
      [{ tasks: [] }, "tasks"],
      [{ tasks: [{ id: "a" }] }, "tasks.0.description"],
      [{ tasks: [task, { id: "b", description: "y" }, { id: "a", description: "z" }] }, "tasks.2.id"],
      [{ tasks: [task], max_loops: 0 }, "max_loops"],
      [{ tasks: [task], max_loops: 51 }, "max_loops"],
      [{ tasks: [task], max_loop: 3 }, "max_loop"],
      [{ tasks: [task], chunk_size: 0 }, "chunk_size"],
      [{ tasks: [task], parallel: 0 }, "parallel"],
    ] as const) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.details.map((d: Json) => d.path), JSON.stringify(body)).toContain(field);
    }

    // the coder's changes are workspace writes: with command execution off, no agent task runs at all
    delete process.env.BATCHBOARD_ENABLE_COMMAND_FLOW;
    for (const body of [{ tasks: [task], check_command: "npm test" }, { tasks: [task] }]) {
      const refused = await post(body);
      expect(refused.status, JSON.stringify(body)).toBe(422);
      expect(refused.body.error.message).toContain("BATCHBOARD_ENABLE_COMMAND_FLOW=1");
    }
    // nor a batch of the agent flow made through POST /api/batches
    const direct = await createBatch({ flow: "agent", parameters: { coder_model: "c", reviewer_model: "r" }, source: { kind: "records", records: [task], recordIdField: "id" } }).catch((e: unknown) => e);
    expect(direct).toMatchObject({ code: "validation_failed", details: [{ message: expect.stringContaining("BATCHBOARD_ENABLE_COMMAND_FLOW=1") }] });
    process.env.BATCHBOARD_ENABLE_COMMAND_FLOW = "1";

    process.env.BATCHBOARD_WORKSPACE_DIR = path.join(base, "no-such-dir");
    const noWorkspace = await post({ tasks: [task] });
    expect(noWorkspace.status).toBe(422);
    expect(noWorkspace.body.error.message).toContain("BATCHBOARD_WORKSPACE_DIR");
    process.env.BATCHBOARD_WORKSPACE_DIR = ws;

    process.env.BATCHBOARD_AGENT_TEMPLATE_DIR = path.join(base, "no-such-template");
    const noTemplate = await post({ tasks: [task] });
    expect(noTemplate.status).toBe(422);
    expect(noTemplate.body.error.message).toContain("BATCHBOARD_AGENT_TEMPLATE_DIR");
    expect(await batchCount()).toBe(before);
    expect(server.requests).toHaveLength(0);
  });
});
