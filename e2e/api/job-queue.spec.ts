// The /batch job queue API against the built app, each test one client example sent as a client of
// this API writes it (the same paths and bodies; curl and Python's requests translated to fetch), in
// a workspace the spec lays out (BATCHBOARD_WORKSPACE_DIR in playwright.config.ts). Command execution
// is on for the main server and off for the one with authentication; agent tasks talk to the mock upstream.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { AUTH_PORT, E2E_ADMIN_TOKEN, E2E_WORKSPACE_DIR, OPENAI_MOCK_KEYS, OPENAI_MOCK_PORT } from "../../playwright.config";
import { startOpenAIMock, type OpenAIMock } from "../../test/support/openai-mock";
import { waitUntil } from "../fixtures";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- the examples index responses freely, as Python does

let base: string;
const ws = path.resolve(E2E_WORKSPACE_DIR);
// the coder and reviewer models of agent tasks (OPENAI_BASE_URL in playwright.config.ts)
let mock: OpenAIMock;

test.beforeAll(async ({ baseURL }) => {
  base = baseURL!;
  mock = await startOpenAIMock({ port: OPENAI_MOCK_PORT, keys: { "/v1/": OPENAI_MOCK_KEYS.default } });
  rmSync(ws, { recursive: true, force: true });
  const files: Record<string, string> = {
    "README.md": "# workspace\n",
    "src/ollama_coder/core/config.py": "X = 1\n",
    "src/ollama_coder/core/supervisor.py": "Y = 2\n",
    "src/ollama_coder/__init__.py": "",
    "tests/test_config.py": "def test_config():\n    assert True\n",
    "tests/test_guardrail.py": "def test_guardrail():\n    assert True\n",
    "tests/test_batch_processing.py": "def test_batch():\n    assert True\n",
  };
  for (let i = 0; i < 10; i++) files[`src/module_${i}.py`] = `VALUE = ${i}\n`;
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
    writeFileSync(path.join(ws, rel), content);
  }
});

test.afterAll(async () => {
  await mock?.close();
});

const requests = {
  async post(url: string, options: { json: unknown }) {
    const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(options.json) });
    return { status_code: res.status, json: async () => (await res.json()) as Json };
  },
  async get(url: string) {
    const res = await fetch(url);
    return { status_code: res.status, json: async () => (await res.json()) as Json };
  },
};
const url = (p: string) => `${base}${p}`;
const until = (jobId: string) =>
  waitUntil(async () => {
    const job = await (await requests.get(url(`/batch/jobs/${jobId}`))).json();
    return ["completed", "failed", "cancelled"].includes(job.status) ? job : undefined;
  }, `job ${jobId} to finish`);

test.describe("the /batch job queue API", () => {
  test("POST /batch/validation with the reference body, then GET /batch/jobs/{job_id}", async () => {
    const response = await requests.post(url("/batch/validation"), {
      json: {
        targets: [
          { id: "file1", path: "src/ollama_coder/core/config.py" },
          { id: "file2", path: "src/ollama_coder/core/supervisor.py" },
          { id: "project1", path: "src/ollama_coder" },
        ],
        check_command: "pytest -q",
        parallel: 5,
      },
    });
    expect(response.status_code).toBe(200);
    const job = await response.json();
    expect(job).toMatchObject({ job_id: expect.any(String), status: expect.stringMatching(/^(queued|running)$/), progress: expect.any(Number), created_at: expect.any(Number) });
    const done = await until(job.job_id);
    expect(done).toMatchObject({ job_type: "batch_validation", status: "completed", progress: 100, error: null, completed_at: expect.any(Number) });
    expect(done.result.summary.total).toBe(3);
    expect(done.result.summary.successful + done.result.summary.failed).toBe(3);
    expect(done.result.results.map((r: Json) => r.id)).toEqual(["file1", "file2", "project1"]);
    expect(done.metadata.progress).toMatchObject({ total: 3, processed: 3, percentage: 100 });
  });

  test("POST /batch/tests with the reference body", async () => {
    const response = await requests.post(url("/batch/tests"), {
      json: {
        modules: [
          { id: "test_config", path: "tests/test_config.py" },
          { id: "test_guardrail", path: "tests/test_guardrail.py" },
          { id: "test_batch", path: "tests/test_batch_processing.py" },
        ],
        test_command: "pytest -v",
        parallel: 5,
      },
    });
    expect(response.status_code).toBe(200);
    const done = await until((await response.json()).job_id);
    expect(done.job_type).toBe("batch_tests");
    expect(done.result.results.map((r: Json) => [r.id, r.path])).toEqual([
      ["test_config", "tests/test_config.py"],
      ["test_guardrail", "tests/test_guardrail.py"],
      ["test_batch", "tests/test_batch_processing.py"],
    ]);
  });

  test("POST /batch/mcp-operations with the reference body", async () => {
    const response = await requests.post(url("/batch/mcp-operations"), {
      json: {
        operations: [
          { type: "read", path: "README.md" },
          { type: "list", path: "src/" },
          { type: "write", path: "output.txt", content: "Hello World" },
          { type: "command", command: "ls -la" },
        ],
        parallel: 5,
      },
    });
    expect(response.status_code).toBe(200);
    const done = await until((await response.json()).job_id);
    expect(done.result.summary).toEqual({ total: 4, successful: 4, failed: 0, skipped: 0 });
    expect(done.result.results[0].output.content).toBe("# workspace\n");
    expect(done.result.results[1].output.entries.map((e: Json) => e.name)).toContain("ollama_coder");
    expect(readFileSync(path.join(ws, "output.txt"), "utf8")).toBe("Hello World");
    expect(done.result.results[3].output.exit_code).toBe(0);
  });

  test("example 2: validate the entire codebase", async () => {
    const python_files = ["src/ollama_coder/core/config.py", "src/ollama_coder/core/supervisor.py", "src/ollama_coder/__init__.py"];
    const targets = python_files.map((f) => ({ id: f, path: f }));
    const response = await requests.post(url("/batch/validation"), { json: { targets, check_command: "ruff check", parallel: 10 } });
    const job_id = (await response.json()).job_id;
    expect(`Validating ${targets.length} files...`).toBe("Validating 3 files...");
    const done = await until(job_id);
    expect(done.result.summary.total).toBe(3);
  });

  test("example 3: run all tests in parallel", async () => {
    const test_files = ["tests/test_batch_processing.py", "tests/test_config.py", "tests/test_guardrail.py"];
    const modules = test_files.map((f) => ({ id: path.basename(f, ".py"), path: f }));
    const response = await requests.post(url("/batch/tests"), { json: { modules, test_command: "pytest -v", parallel: 5 } });
    expect(response.status_code).toBe(200);
    expect((await until((await response.json()).job_id)).result.summary.total).toBe(3);
  });

  test("example 4: bulk file operations", async () => {
    const operations: Json[] = [];
    for (let i = 0; i < 10; i++) operations.push({ type: "read", path: `src/module_${i}.py` });
    for (let i = 0; i < 10; i++) operations.push({ type: "write", path: `output/result_${i}.txt`, content: `Result ${i}` });
    const response = await requests.post(url("/batch/mcp-operations"), { json: { operations, parallel: 10 } });
    const done = await until((await response.json()).job_id);
    expect(done.result.summary).toEqual({ total: 20, successful: 20, failed: 0, skipped: 0 });
    expect(done.result.results[7].output.content).toBe("VALUE = 7\n");
    expect(readFileSync(path.join(ws, "output", "result_9.txt"), "utf8")).toBe("Result 9");
  });

  test("list with filters, cancel, stats, and paths outside the workspace", async () => {
    const list = await (await requests.get(url("/batch/jobs?status=completed&job_type=batch_agent_tasks&limit=50&offset=0"))).json();
    expect(list).toEqual({ jobs: [], total: 0 });
    const completed = await (await requests.get(url("/batch/jobs?status=completed&limit=2&offset=1"))).json();
    expect(completed.jobs).toHaveLength(2);
    expect(completed.total).toBeGreaterThanOrEqual(6);

    const slow = await (await requests.post(url("/batch/tests"), { json: { modules: [{ id: "slow", path: "tests" }], test_command: "sleep 60 #" } })).json();
    const cancelled = await fetch(url(`/batch/jobs/${slow.job_id}`), { method: "DELETE" });
    expect(await cancelled.json()).toEqual({ status: "cancelled", job_id: slow.job_id });
    expect((await fetch(url(`/batch/jobs/${slow.job_id}`), { method: "DELETE" })).status).toBe(409);

    const stats = await (await requests.get(url("/batch/stats"))).json();
    expect(Object.keys(stats.stats).sort()).toEqual(["cancelled", "completed", "failed", "queued", "running", "total"]);
    expect(stats.stats.cancelled).toBeGreaterThanOrEqual(1);

    const escape = await requests.post(url("/batch/mcp-operations"), { json: { operations: [{ type: "read", path: "../../etc/passwd" }] } });
    expect(escape.status_code).toBe(422);
    expect((await escape.json()).error.details[0].path).toBe("operations.0.path");
  });

  test("POST /batch/agent-tasks as in the quick start, then GET /batch/jobs/{job_id}", async () => {
    const response = await requests.post(url("/batch/agent-tasks"), {
      json: {
        tasks: [
          { id: "task1", description: "Create hello.py that prints Hello World" },
          { id: "task2", description: "Add unit tests for hello.py" },
        ],
        parallel: 3,
      },
    });
    expect(response.status_code).toBe(200);
    const job = await response.json();
    expect(job).toMatchObject({ status: expect.stringMatching(/^(queued|running)$/), progress: expect.any(Number), metadata: { total_tasks: 2 } });
    expect(typeof job.created_at).toBe("number");
    const done = await until(job.job_id);
    expect(done.status).toBe("completed");
    expect(done.progress).toBe(100);
    expect(done.result.summary, JSON.stringify(done.result.results)).toEqual({ total: 2, successful: 2, failed: 0, skipped: 0 });
    expect(done.result.results.map((r: Json) => [r.id, r.output.loops, r.output.approved])).toEqual([
      ["task1", 1, true],
      ["task2", 1, true],
    ]);
    expect(typeof done.result.elapsed_seconds).toBe("number");
  });

  test("example 1: batch process 1000 coding tasks", async () => {
    test.setTimeout(240_000);
    const tasks = Array.from({ length: 1000 }, (_, i) => ({ id: `task-${i}`, description: `Create function_${i}.py with a function that returns ${i}` }));
    const response = await requests.post(url("/batch/agent-tasks"), { json: { tasks, chunk_size: 50, parallel: 5 } });
    const job = await response.json();
    const job_id = job.job_id;
    expect(job.metadata.chunk_size).toBe(50);
    const done = await waitUntil(async () => {
      const j = await (await requests.get(url(`/batch/jobs/${job_id}`))).json();
      return ["completed", "failed", "cancelled"].includes(j.status) ? j : undefined;
    }, `job ${job_id} to finish`, 180_000);
    const result = done.result;
    expect(`Completed: ${result.summary.successful} tasks`).toBe("Completed: 1000 tasks");
    expect(`Failed: ${result.summary.failed} tasks`).toBe("Failed: 0 tasks");
    expect(result.elapsed_seconds).toBeGreaterThan(0);
  });

  test("with authentication on: 401 without a key (not a redirect), and 422 while command execution is off", async () => {
    const authBase = `http://localhost:${AUTH_PORT}`;
    const anonymous = await fetch(`${authBase}/batch/stats`, { redirect: "manual" });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as Json).error.code).toBe("unauthorized");
    const headers = { authorization: `Bearer ${E2E_ADMIN_TOKEN}`, "content-type": "application/json" };
    const refused = await fetch(`${authBase}/batch/validation`, { method: "POST", headers, body: JSON.stringify({ targets: [{ id: "a", path: "src" }] }) });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as Json).error.message).toContain("BATCHBOARD_ENABLE_COMMAND_FLOW=1");
    const write = await fetch(`${authBase}/batch/mcp-operations`, { method: "POST", headers, body: JSON.stringify({ operations: [{ type: "write", path: "x.txt", content: "x" }] }) });
    expect(write.status).toBe(422);
    // /batches is still a page behind the sign-in redirect
    expect((await fetch(`${authBase}/batches`, { redirect: "manual" })).status).toBe(307);
  });
});
