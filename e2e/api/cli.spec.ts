import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { createBatch, getBatch, inlineRecords, unique, waitForBatch, waitUntil, type BatchJson } from "../fixtures";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/batchboard.mjs …` against the e2e app. */
function cli(args: string[], baseURL: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/batchboard.mjs", ...args], {
      env: { ...process.env, BATCHBOARD_URL: baseURL, BATCHBOARD_TOKEN: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

test.describe("CLI", () => {
  test.setTimeout(120_000);

  test("create --wait follows the batch to the end, then results --format jsonl prints every record", async ({ baseURL }) => {
    const dir = mkdtempSync(path.join(tmpdir(), "bb-cli-"));
    const file = path.join(dir, "records.jsonl");
    writeFileSync(file, Array.from({ length: 8 }, (_, i) => JSON.stringify({ id: `c${i}`, text: `line ${i}` })).join("\n"));
    const name = unique("cli");
    const created = await cli(
      ["create", "echo", "--records-file", file, "--name", name, "--param", "delay_ms=20", "--concurrency", "3", "--no-shuffle", "--wait", "--json"],
      baseURL!,
    );
    expect(created.code, created.stderr).toBe(0);
    const batch = JSON.parse(created.stdout) as BatchJson;
    expect(batch).toMatchObject({ name, status: "completed", parameters: { delay_ms: 20 }, options: { concurrency: 3, shuffle: false } });
    expect(batch.progress).toMatchObject({ total: 8, succeeded: 8, percent: 100 });
    // the progress bar went to stderr
    expect(created.stderr).toMatch(/\[#+-*\]\s+[\d.]+% \d+\/8/);
    expect(created.stderr).toContain("ETA");

    const results = await cli(["results", batch.id, "--format", "jsonl"], baseURL!);
    expect(results.code, results.stderr).toBe(0);
    const lines = results.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.record_id)).toEqual(["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"]);
    expect(lines[0]).toEqual({ record_id: "c0", status: "succeeded", result: { id: "c0", text: "line 0" }, error: null, cost: 0 });

    const out = path.join(dir, "out.csv");
    const csv = await cli(["results", batch.id, "--format", "csv", "--output", out], baseURL!);
    expect(csv.code, csv.stderr).toBe(0);
    expect(readFileSync(out, "utf8").split(/\r?\n/)[0]).toBe("record_id,position,status,result,error_code,error_message,cost");

    const status = await cli(["status", batch.id], baseURL!);
    expect(status.stdout).toContain("completed");
    const list = await cli(["list", "--q", name], baseURL!);
    expect(list.stdout).toMatch(/ID\s+STATUS\s+FLOW/);
    expect(list.stdout).toContain(batch.id);
    const jobs = await cli(["jobs", batch.id, "--limit", "3"], baseURL!);
    expect(jobs.stdout).toContain("3 of 8");
  });

  test("create --wait exits non-zero when the batch ends cancelled", async ({ baseURL, request }) => {
    const name = unique("cli-cancel");
    const file = path.join(mkdtempSync(path.join(tmpdir(), "bb-cli-")), "ids.txt");
    writeFileSync(file, "one\ntwo\nthree\n");
    const running = cli(["create", "echo", "--records-file", file, "--name", name, "--param", "delay_ms=600000", "--concurrency", "1", "--wait"], baseURL!);
    const id = await waitUntil(async () => {
      const page = await (await request.get(`/api/batches?q=${name}`)).json();
      return page.items[0]?.id as string | undefined;
    }, "the CLI's batch to exist");
    const cancel = await request.post(`/api/batches/${id}/cancel`);
    expect(cancel.status()).toBe(200);
    const run = await running;
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("cancelled");
    expect((await getBatch(request, id)).status).toBe("cancelled");
  });

  test("create --wait exits non-zero when the batch ends failed", async ({ baseURL }) => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "bb-cli-")), "ids.txt");
    writeFileSync(file, "one\ntwo\n");
    // review without an interactive batch or a default label fails each job for good; stop fails the batch
    const run = await cli(["create", "review", "--records-file", file, "--error-policy", "stop", "--wait", "--json"], baseURL!);
    expect(run.code, run.stderr).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: "failed", stop_reason: "error_policy" });
  });

  test("wait follows an existing batch to its end; the exit code says how it ended", async ({ baseURL, request }) => {
    // a running batch: the bar is drawn while it runs, and 0 once it completed with no failed record
    const running = await createBatch(request, { flow: "echo", parameters: { delay_ms: 150 }, records: inlineRecords(12), concurrency: 2 });
    const waited = await cli(["wait", running.id], baseURL!);
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stderr).toMatch(/\[#*-*\]\s+[\d.]+% \d+\/12/);
    expect(waited.stdout).toMatch(/status\s+completed/);
    expect((await getBatch(request, running.id)).progress.succeeded).toBe(12);

    // completed, but some records failed: 3
    const partial = await createBatch(request, { flow: "chaos", parameters: { failure_rate: 0.5, seed: "wait" }, records: inlineRecords(10) });
    const partialRun = await cli(["wait", partial.id, "--json"], baseURL!);
    expect(partialRun.code, partialRun.stderr).toBe(3);
    const ended = JSON.parse(partialRun.stdout) as BatchJson;
    expect(ended.status).toBe("completed");
    expect(ended.progress.failed).toBeGreaterThan(0);

    // an already-finished batch that failed (error policy stop): 1 at once
    const failed = await createBatch(request, { flow: "review", records: ["a", "b"], error_policy: "stop" });
    await waitForBatch(request, failed.id);
    const failedRun = await cli(["wait", failed.id], baseURL!);
    expect(failedRun.code).toBe(1);
    expect(failedRun.stdout).toMatch(/status\s+stopped: first failure/);

    // a batch that does not exist: the API's 404, exit 1
    const missing = await cli(["wait", "batch_does_not_exist"], baseURL!);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("not_found (404)");
    const usage = await cli(["wait"], baseURL!);
    expect(usage.code).toBe(2);
  });

  test("create warns before a batch whose every record will fail, and --wait says how it ended", async ({ baseURL }) => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "bb-cli-")), "ids.txt");
    writeFileSync(file, "one\ntwo\n");
    // review without an interactive batch or a default label fails every record: the batch completes
    const run = await cli(["create", "review", "--records-file", file, "--wait"], baseURL!);
    expect(run.stderr).toContain("warning: every record will fail with input_required: flow review asks a human");
    expect(run.stdout).toContain("status     completed · all 2 failed");
    expect(run.code, "every record failed: not a success").toBe(1);
  });

  test("status of a batch cancelled part-way reads the share processed", async ({ baseURL, request }) => {
    const res = await request.post("/api/batches", {
      data: { flow: "echo", records: Array.from({ length: 20 }, (_, i) => `rec ${i}`), parameters: { delay_ms: 250 }, concurrency: 1, shuffle: false },
    });
    const created = (await res.json()) as BatchJson;
    await waitUntil(async () => ((await getBatch(request, created.id)).progress.succeeded >= 3 ? true : undefined), "3 records done");
    const cancelled = (await (await request.post(`/api/batches/${created.id}/cancel`)).json()) as { outcome: { processed: number; percent: number } };
    const status = await cli(["status", created.id], baseURL!);
    const { processed, percent } = cancelled.outcome;
    expect(status.stdout).toContain(`status     cancelled at ${Math.floor(percent)}% (${processed} of 20 processed)`);
    expect(status.stdout).toContain(`progress   cancelled at ${Math.floor(percent)}% (${processed} of 20 processed)`);
    expect(status.stdout).not.toContain("100.0%");
  });

  test("clone runs the failed records again with a changed parameter; list --parent finds the child", async ({ baseURL, request }) => {
    const parent = await createBatch(request, {
      flow: "chaos",
      name: unique("cli-clone"),
      records: inlineRecords(30),
      parameters: { failure_rate: 0.5, seed: "cli" },
    });
    const done = await waitForBatch(request, parent.id);
    expect(done.progress.failed).toBeGreaterThan(0);
    const again = await cli(["clone", parent.id, "--set", "parameters.failure_rate=0", "--set", "concurrency=2", "--records", "failed", "--wait", "--json"], baseURL!);
    expect(again.code, again.stderr).toBe(0);
    const child = JSON.parse(again.stdout) as BatchJson & { parent_id: string };
    expect(child).toMatchObject({ parent_id: parent.id, status: "completed", parameters: { failure_rate: 0, seed: "cli" }, options: { concurrency: 2 } });
    expect(child.progress).toMatchObject({ total: done.progress.failed, succeeded: done.progress.failed });
    const list = await cli(["list", "--parent", parent.id, "--json"], baseURL!);
    expect((JSON.parse(list.stdout) as { items: { id: string }[] }).items.map((b) => b.id)).toEqual([child.id]);
    const bad = await cli(["clone", parent.id, "--set", "concurrency=0"], baseURL!);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("concurrency:");
  });

  test("create --chunk-size sets the batch's chunk size; on a flow that does not chunk it is a 422 naming chunk_size", async ({ baseURL, request }) => {
    const dir = mkdtempSync(path.join(tmpdir(), "bb-cli-"));
    const file = path.join(dir, "records.jsonl");
    writeFileSync(file, Array.from({ length: 3 }, (_, i) => JSON.stringify({ id: `k${i}`, text: `line ${i}` })).join("\n"));
    const created = await cli(["create", "embed", "--records-file", file, "--param", "model=e2e-emb-small", "--chunk-size", "4", "--concurrency", "2", "--json"], baseURL!);
    expect(created.code, created.stderr).toBe(0);
    const batch = JSON.parse(created.stdout) as BatchJson;
    expect(batch.options).toMatchObject({ chunk_size: 4, concurrency: 2 });
    await request.post(`/api/batches/${batch.id}/cancel`);

    const bad = await cli(["create", "echo", "--records-file", file, "--chunk-size", "3"], baseURL!);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("validation_failed (422)");
    expect(bad.stderr).toContain("chunk_size:");
  });

  test("datasets upload infers the format; errors print the API's code and field paths", async ({ baseURL }) => {
    const dir = mkdtempSync(path.join(tmpdir(), "bb-cli-"));
    const file = path.join(dir, "people.csv");
    writeFileSync(file, "email,name\na@x.org,Ann\nb@x.org,Bob\n");
    const name = unique("cli-ds");
    const up = await cli(["datasets", "upload", file, "--name", name, "--id-field", "email", "--json"], baseURL!);
    expect(up.code, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ name, format: "csv", id_field: "email", record_count: 2 });
    const list = await cli(["datasets", "list", "--limit", "1000"], baseURL!);
    expect(list.stdout).toContain(name);

    const bad = await cli(["create", "echo", "--concurrency", "0", "--dataset", name], baseURL!);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("validation_failed (422)");
    expect(bad.stderr).toContain("concurrency:");
    const usage = await cli(["create", "echo", "--bogus-flag"], baseURL!);
    expect(usage.code).toBe(2);
    const help = await cli(["--help"], baseURL!);
    for (const c of ["create", "clone", "wait", "list", "status", "cancel", "pause", "resume", "retry", "jobs", "results", "datasets upload", "prompts list", "prompts answer"]) {
      expect(help.stdout).toContain(c);
    }
  });
});
