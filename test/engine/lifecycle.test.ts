// Batch and job lifecycle against a real worker (in this process) and real PostgreSQL: cancel,
// pause/resume, error policy, error threshold, budget, retries and backoff, ctx.ask in and out of
// interactive batches, prompt timeouts, retry/cancel of jobs, the completion webhook.
import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { answerPrompt, cancelBatch, cancelJob, createBatch, getBatch, getJob, getPrompt, getStats, listPrompts, listWorkers, pauseBatch, resumeBatch, retryBatch, retryJob, subscribeEvents, type BatchDetail, type CreateBatchInput, type EngineEvent } from "@/lib/engine";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { getWebhookSecret } from "@/lib/engine/maintenance";
import { AppError } from "@/lib/errors";
// not a React hook: the name only says it hooks into beforeAll/afterAll
import { dbNow, useTestDatabase as withTestDatabase } from "../helpers/db";
import { registerTestFlows } from "./fixtures/flows";
import { batchRow, createTestTables, executions, expectCountersExact, reservationsHeld, sampleUntilCompleted, waitFor } from "./helpers";

withTestDatabase();
registerTestFlows();

let worker: WorkerHandle;
beforeAll(async () => {
  await createTestTables();
  worker = await startWorker({ mode: "in-process", concurrency: 16, leaseMs: 1000, pollMs: 50, maintenanceMs: 100, log: () => {} });
});
afterAll(async () => {
  await worker.stop(500);
});

const records = (n: number, f: (i: number) => object = () => ({})) =>
  Array.from({ length: n }, (_, i) => ({ id: `r${i}`, ...f(i) }));

function make(flow: string, n: number, extra: Partial<CreateBatchInput> = {}, f?: (i: number) => object) {
  return createBatch({ flow, source: { kind: "records", records: records(n, f), recordIdField: "id" }, shuffle: false, ...extra });
}

function until(id: string, what: string, pred: (b: BatchDetail) => boolean, ms = 20_000) {
  return waitFor(what, async () => {
    const b = await getBatch(id);
    return pred(b) && b;
  }, ms);
}

const finished = (b: BatchDetail) => ["completed", "failed", "cancelled"].includes(b.status);

async function rejects(p: Promise<unknown>, code: string): Promise<AppError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
  return err as AppError;
}

describe("cancel, pause, resume", () => {
  it("cancel: pending and running jobs cancelled, running flows aborted, nothing starts after, results kept", async () => {
    const events: EngineEvent[] = [];
    const unsubscribe = subscribeEvents((e) => events.push(e));
    const b = await make("t-track", 40, { concurrency: 3, parameters: { delay_ms: 150 } });
    await until(b.id, "some succeeded and 3 running", (x) => x.succeeded >= 3 && x.running === 3);
    const cancelled = await cancelBatch(b.id);
    const after = await dbNow();
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.stopReason).toBe("cancelled");
    expect(cancelled.pending + cancelled.running).toBe(0);
    const kept = cancelled.succeeded;
    expect(kept).toBeGreaterThanOrEqual(3);
    expect(cancelled.cancelled).toBe(40 - kept);
    // the running flows see their signal abort: their executions end, the worker frees the slots
    await waitFor("aborted executions ended", async () => {
      const { rows } = await getPool().query(`SELECT count(*)::int AS n FROM test_exec WHERE batch_id = $1 AND ended_at IS NULL`, [b.id]);
      return rows[0].n === 0;
    });
    await waitFor("worker idle", async () => worker.stats.running === 0);
    const started = await getPool().query(`SELECT count(*)::int AS n FROM jobs WHERE batch_id = $1 AND started_at > $2`, [b.id, after]);
    expect(started.rows[0].n).toBe(0);
    const x = await getBatch(b.id);
    expect(x.succeeded).toBe(kept);
    await expectCountersExact(b.id);
    const err = await rejects(cancelBatch(b.id), "conflict");
    expect(err.message).toContain("batch is cancelled");
    await rejects(pauseBatch(b.id), "conflict");
    await waitFor("cancel event", async () => events.some((e) => e.type === "batch" && e.batchId === b.id && e.status === "cancelled"));
    unsubscribe();
  });

  it("pause starts nothing new while running jobs finish; resume runs the rest", async () => {
    const b = await make("t-track", 30, { concurrency: 2, parameters: { delay_ms: 60 } });
    await until(b.id, "started", (x) => x.succeeded >= 2);
    const paused = await pauseBatch(b.id);
    const at = await dbNow();
    expect(paused.status).toBe("paused");
    const idle = await until(b.id, "running drained", (x) => x.running === 0);
    expect(idle.status).toBe("paused");
    expect(idle.pending).toBeGreaterThan(0);
    // let the worker go through several claim rounds: none may take a job of the paused batch
    await waitFor("claim rounds", async () => {
      const { rows } = await getPool().query(`SELECT count(*)::int AS n FROM jobs WHERE batch_id = $1 AND status = 'pending'`, [b.id]);
      return rows[0].n === idle.pending;
    });
    const late = await getPool().query(`SELECT count(*)::int AS n FROM jobs WHERE batch_id = $1 AND started_at > $2`, [b.id, at]);
    expect(late.rows[0].n).toBe(0);
    expect((await resumeBatch(b.id)).status).toBe("running");
    const done = await until(b.id, "completed", finished);
    expect(done.status).toBe("completed");
    expect(done.succeeded).toBe(30);
    await expectCountersExact(b.id);
    await rejects(resumeBatch(b.id), "conflict");
  });
});

describe("reservations", () => {
  it("the next jobs wait in the worker and start in the slots its jobs free: concurrency holds, each attempt counts once", async () => {
    const b = await make("t-track", 60, { concurrency: 3, parameters: { delay_ms: 40 } });
    const { done, maxRunning, maxReserved } = await sampleUntilCompleted(b.id);
    expect(done.succeeded).toBe(60);
    expect(maxRunning).toBeLessThanOrEqual(3);
    // the worker held reservations, never more than the batch's concurrency
    expect(maxReserved).toBeGreaterThan(0);
    expect(maxReserved).toBeLessThanOrEqual(3);
    const exec = await executions(b.id);
    expect(exec.n).toBe(60);
    expect(exec.peak).toBeLessThanOrEqual(3);
    expect(exec.peak).toBeGreaterThanOrEqual(2);
    const { rows } = await getPool().query(
      `SELECT count(*) FILTER (WHERE attempts <> 1)::int AS wrong, count(*) FILTER (WHERE started_at IS NULL OR started_at > finished_at)::int AS unstarted
       FROM jobs WHERE batch_id = $1`,
      [b.id],
    );
    expect(rows[0]).toEqual({ wrong: 0, unstarted: 0 });
    await expectCountersExact(b.id);
  });

  it("pause takes the reservations back: they are pending again, their attempt not counted; resume runs everything once", async () => {
    const b = await make("t-track", 40, { concurrency: 2, parameters: { delay_ms: 60 } });
    await reservationsHeld(b.id);
    await pauseBatch(b.id);
    const paused = await batchRow(b.id);
    expect(paused.reserved).toBe(0);
    expect(paused.running).toBeLessThanOrEqual(2);
    await expectCountersExact(b.id);
    const idle = await until(b.id, "running drained", (x) => x.running === 0);
    expect(idle.status).toBe("paused");
    const { rows } = await getPool().query(
      `SELECT count(*)::int AS n FROM jobs WHERE batch_id = $1 AND status = 'pending' AND attempts <> 0`,
      [b.id],
    );
    expect(rows[0].n).toBe(0);
    await resumeBatch(b.id);
    const done = await until(b.id, "completed", finished);
    expect(done.succeeded).toBe(40);
    const attempts = await getPool().query(`SELECT count(*)::int AS n FROM jobs WHERE batch_id = $1 AND attempts <> 1`, [b.id]);
    expect(attempts.rows[0].n).toBe(0);
    expect((await executions(b.id)).peak).toBeLessThanOrEqual(2);
    await expectCountersExact(b.id);
  });

  it("cancel takes the reservations with the rest; a budget or a stop-at-first-failure batch gets none", async () => {
    const b = await make("t-track", 40, { concurrency: 2, parameters: { delay_ms: 60 } });
    await reservationsHeld(b.id);
    await cancelBatch(b.id);
    const c = await batchRow(b.id);
    expect({ running: c.running, reserved: c.reserved, pending: c.pending }).toEqual({ running: 0, reserved: 0, pending: 0 });
    await expectCountersExact(b.id);

    // one at a time: a claim that finds two batches grants no reservations anyway (fairness)
    for (const extra of [{ max_cost: 1000 }, { error_policy: "stop" as const }]) {
      const x = await make("t-track", 30, { concurrency: 2, parameters: { delay_ms: 20 }, ...extra });
      const { maxReserved } = await sampleUntilCompleted(x.id);
      expect(maxReserved).toBe(0);
      await expectCountersExact(x.id);
    }
  });
});

describe("stopping", () => {
  it("error_policy stop: first failure fails the batch, pending skipped, running aborted", async () => {
    const b = await make("t-fail", 40, { concurrency: 4, error_policy: "stop", parameters: { fail_times: 0, delay_ms: 40 } }, (i) =>
      i === 6 ? { fail: true } : {},
    );
    const x = await until(b.id, "stopped", finished);
    expect(x.status).toBe("failed");
    expect(x.stopReason).toBe("error_policy");
    expect(x.failed).toBe(1);
    expect(x.skipped).toBeGreaterThan(0);
    expect(x.succeeded + x.failed + x.skipped).toBe(40);
    const skipped = await getJob(b.id, "r39");
    expect(skipped.status).toBe("skipped");
    expect(skipped.error?.code).toBe("batch_stopped");
    await expectCountersExact(b.id);
  });

  it("error_threshold: stops once the failure rate is reached over the minimum finished", async () => {
    const b = await make("t-fail", 60, { concurrency: 2, error_threshold: { rate: 0.5, min_finished: 6 }, parameters: { fail_times: 0 } }, (i) =>
      i % 2 === 0 ? { fail: true } : {},
    );
    const x = await until(b.id, "stopped", finished);
    expect(x.status).toBe("failed");
    expect(x.stopReason).toBe("error_threshold");
    expect(x.succeeded + x.failed).toBeGreaterThanOrEqual(6);
    expect(x.skipped).toBeGreaterThan(0);
    await expectCountersExact(b.id);
  });

  it("a continue batch with failures completes, and its counts say so", async () => {
    const b = await make("t-fail", 10, { concurrency: 5, parameters: { fail_times: 0 } }, (i) => (i < 3 ? { fail: true } : {}));
    const x = await until(b.id, "completed", finished);
    expect(x.status).toBe("completed");
    expect(x).toMatchObject({ failed: 3, succeeded: 7 });
  });

  it("budget: no job starts once max_cost is spent; overshoot bounded by running jobs; rest skipped", async () => {
    const b = await make("t-cost", 50, { concurrency: 3, max_cost: 5, parameters: { cost: 1, delay_ms: 30 } });
    const x = await until(b.id, "stopped", finished);
    expect(x.status).toBe("failed");
    expect(x.stopReason).toBe("budget_exhausted");
    expect(x.costSpent).toBeGreaterThanOrEqual(5);
    expect(x.costSpent).toBeLessThanOrEqual(5 + 3);
    expect(x.succeeded).toBe(x.costSpent);
    expect(x.skipped).toBe(50 - x.succeeded);
    await expectCountersExact(b.id);
  });
});

describe("records reach the flow as they were given", () => {
  it("a record's JSON (nesting, unicode, escapes, extreme numbers, nulls) arrives in the flow and its result unchanged", async () => {
    const shapes: object[] = [
      {},
      { text: "quote \" backslash \\ newline \n tab \t", emoji: "\u{1F600} \u00e9\u4e2d", empty: "" },
      { n: 1e300, neg: -0.000001, int: 9007199254740991, zero: 0, t: true, f: false, none: null },
      { nested: { a: [1, [2, [3, { b: [] }]]], o: { "key with spaces": { "": "empty key" } } } },
      { list: [null, "x", 1.5, { y: [] }], "ünïcödé key": "v" },
    ];
    const b = await make("t-echo", shapes.length * 4, { concurrency: 8 }, (i) => shapes[i % shapes.length]!);
    const x = await until(b.id, "completed", finished);
    expect(x).toMatchObject({ succeeded: shapes.length * 4, failed: 0 });
    for (let i = 0; i < shapes.length * 4; i++) {
      const job = await getJob(b.id, `r${i}`);
      expect(job.result, `r${i}`).toEqual({ id: `r${i}`, data: { id: `r${i}`, ...shapes[i % shapes.length] } });
    }
    await expectCountersExact(b.id);
  });
});

describe("results PostgreSQL cannot store as given", () => {
  it("NUL characters are dropped and lone surrogates become U+FFFD in a result, an error or a log: the outcomes are written, nothing is stuck", async () => {
    const b = await make("t-nul", 20, { concurrency: 20 }, (i) => (i % 2 ? { fail: true } : {}));
    const x = await until(b.id, "completed", finished);
    expect(x).toMatchObject({ succeeded: 10, failed: 10 });
    const ok = await getJob(b.id, "r0");
    expect(ok.result).toEqual({ k: "vw", list: [""], n: 1, "s\ufffd": "t\ufffd" });
    expect(ok.logs.map((l) => l.message)).toEqual(expect.arrayContaining(["ab", "cut \ufffd"]));
    const bad = await getJob(b.id, "r1");
    expect(bad.error).toMatchObject({ code: "badcode", message: "xy \ufffd" });
    await expectCountersExact(b.id);
  });
});

describe("retries", () => {
  it("retries with exponential backoff (a future run_at) until it succeeds", async () => {
    const b = await make("t-fail", 3, { concurrency: 3, max_retries: 3, retry_backoff_ms: 400, parameters: { fail_times: 2 } });
    const waiting = await waitFor("first retry scheduled", async () => {
      const { rows } = await getPool().query(
        `SELECT run_at, started_at, attempts FROM jobs WHERE batch_id = $1 AND record_id = 'r0' AND status = 'pending' AND attempts = 1`,
        [b.id],
      );
      return rows[0];
    });
    // backoff base 400 ms with equal jitter: at least 200 ms after the attempt started
    expect(waiting.run_at.getTime() - waiting.started_at.getTime()).toBeGreaterThanOrEqual(200);
    const x = await until(b.id, "completed", finished);
    expect(x.succeeded).toBe(3);
    const job = await getJob(b.id, "r0");
    expect(job.attempts).toBe(3);
    expect(job.error).toBeNull();
    expect(job.result).toEqual({ ok: true, attempt: 3 });
    expect(job.logs.filter((l) => l.message.includes("failing attempt")).length).toBe(2);
  });

  it("a non-retryable FlowError fails at once; retryAfterMs sets the next run", async () => {
    const b = await make("t-fail", 1, { max_retries: 5, parameters: { retryable: false } });
    const x = await until(b.id, "done", finished);
    expect(x.failed).toBe(1);
    const job = await getJob(b.id, "r0");
    expect(job).toMatchObject({ attempts: 1, error: { code: "boom", retryable: false } });

    const later = await make("t-fail", 1, { max_retries: 1, retry_backoff_ms: 1, parameters: { fail_times: 1, retry_after_ms: 800 } });
    const w = await waitFor("retry scheduled", async () => {
      const { rows } = await getPool().query(`SELECT run_at, started_at FROM jobs WHERE batch_id = $1 AND status = 'pending' AND attempts = 1`, [
        later.id,
      ]);
      return rows[0];
    });
    expect(w.run_at.getTime() - w.started_at.getTime()).toBeGreaterThanOrEqual(800);
    expect((await until(later.id, "done", finished)).succeeded).toBe(1);
  });

  it("a per-item timeout aborts the attempt (even a flow that ignores its signal)", async () => {
    const b = await make("t-hang", 2, { timeout_ms: 200, max_retries: 1, retry_backoff_ms: 10, parameters: { ignore_signal: true } });
    const x = await until(b.id, "done", finished);
    expect(x.failed).toBe(2);
    const job = await getJob(b.id, "r1");
    expect(job).toMatchObject({ attempts: 2, error: { code: "timeout" } });
  });

  it("retryBatch re-queues failed jobs, their attempts counting on; retryJob/cancelJob act on one job", async () => {
    const b = await make("t-fail", 4, { parameters: { fail_times: 0 } }, (i) => (i < 2 ? { fail: true } : {}));
    await until(b.id, "done", finished);
    const { batch, retried } = await retryBatch(b.id);
    expect(retried).toBe(2);
    expect(["running", "pending", "completed"]).toContain(batch.status);
    const again = await until(b.id, "done again", (x) => finished(x) && x.failed === 2);
    expect(again.status).toBe("completed");
    expect((await getJob(b.id, "r0")).attempts).toBe(2);
    const one = await retryJob(b.id, "r1");
    expect(["pending", "running", "failed"]).toContain(one.status);
    await until(b.id, "done a third time", (x) => finished(x) && x.failed === 2);
    await rejects(retryJob(b.id, "r3"), "conflict");
    await rejects(retryBatch(b.id, ["succeeded"]), "validation_failed");

    const h = await make("t-hang", 3, { concurrency: 1 });
    await until(h.id, "running", (x) => x.running === 1);
    const c = await cancelJob(h.id, "r2");
    expect(c.status).toBe("cancelled");
    await cancelJob(h.id, "r0");
    await cancelJob(h.id, "r1");
    const x = await until(h.id, "all cancelled", finished);
    expect(x.status).toBe("completed");
    expect(x.cancelled).toBe(3);
    await expectCountersExact(h.id);
  });
});

describe("ctx.ask", () => {
  it("non-interactive: the default, or input_required", async () => {
    const withDefault = await make("t-ask", 1, { parameters: { default: "no" } });
    const without = await make("t-ask", 1);
    expect((await until(withDefault.id, "done", finished)).succeeded).toBe(1);
    expect((await getJob(withDefault.id, "r0")).result).toEqual({ answer: "no" });
    expect((await until(without.id, "done", finished)).failed).toBe(1);
    expect((await getJob(without.id, "r0")).error).toMatchObject({ code: "input_required", retryable: false });
  });

  it("interactive: parks the job (slot freed), answer re-runs it and ask returns the answer", async () => {
    const b = await make("t-ask", 3, { interactive: true, concurrency: 1 });
    // concurrency 1 and all three parked: a parked job does not hold its slot
    const parked = await until(b.id, "all waiting", (x) => x.waitingInput === 3);
    expect(parked.running).toBe(0);
    const open = await listPrompts({ batchId: b.id, status: ["open"], limit: 10 });
    expect(open.total).toBe(3);
    const p = open.items.find((i) => i.recordId === "r1")!;
    expect(p).toMatchObject({ key: "label", question: "Label r1?", input: { type: "choice" }, record: { id: "r1" } });
    await rejects(answerPrompt(p.id, "maybe", "alice"), "validation_failed");
    const answered = await answerPrompt(p.id, "yes", "alice");
    expect(answered).toMatchObject({ status: "answered", answer: "yes", answeredBy: "alice" });
    await rejects(answerPrompt(p.id, "no", "bob"), "conflict");
    await waitFor("r1 succeeded", async () => (await getJob(b.id, "r1")).status === "succeeded");
    const job = await getJob(b.id, "r1");
    expect(job.result).toEqual({ answer: "yes" });
    expect(job.attempts).toBe(1);
    expect(job.prompts.map((x) => x.status)).toEqual(["answered"]);
    const runs = await getPool().query(`SELECT runs FROM test_ask_runs WHERE batch_id = $1 AND record_id = 'r1'`, [b.id]);
    expect(runs.rows[0].runs).toBe(2);
    for (const q of open.items.filter((i) => i.id !== p.id)) await answerPrompt(q.id, "no", "bob");
    const done = await until(b.id, "completed", finished);
    expect(done.succeeded).toBe(3);
    expect((await getPrompt(p.id)).status).toBe("answered");
    await expectCountersExact(b.id);
  });

  it("a question, an input spec or a default PostgreSQL cannot store as given is stored cleaned: the job parks, not fails", async () => {
    const b = await make("t-ask", 1, { interactive: true, parameters: { unstorable: true, default: "no" } });
    await until(b.id, "waiting", (x) => x.waitingInput === 1);
    const open = await listPrompts({ batchId: b.id, status: ["open"], limit: 10 });
    expect(open.items[0]).toMatchObject({
      question: "Label r0? \ufffd",
      input: { type: "choice", options: [{ value: "yes", label: "yes \ufffd" }, { value: "no" }] },
    });
    const stored = await getPool().query(`SELECT default_value FROM prompts WHERE id = $1`, [open.items[0]!.id]);
    expect(stored.rows[0].default_value).toBe("no \ufffd");
    await answerPrompt(open.items[0]!.id, "yes", "alice");
    expect((await until(b.id, "completed", finished)).succeeded).toBe(1);
    expect((await getJob(b.id, "r0")).result).toEqual({ answer: "yes" });
  });

  it("a prompt past its timeout resolves to its default, or fails the job", async () => {
    const withDefault = await make("t-ask", 1, { interactive: true, parameters: { default: "no", timeout_ms: 300 } });
    const without = await make("t-ask", 1, { interactive: true, parameters: { timeout_ms: 300 } });
    expect((await until(withDefault.id, "done", finished)).succeeded).toBe(1);
    expect((await getJob(withDefault.id, "r0")).result).toEqual({ answer: "no" });
    expect((await until(without.id, "done", finished)).failed).toBe(1);
    const j = await getJob(without.id, "r0");
    expect(j.error?.code).toBe("input_timeout");
    expect(j.prompts[0]!.status).toBe("expired");
  });
});

describe("webhook, stats, workers", () => {
  it("POSTs a signed summary when the batch ends, retrying after a failure", async () => {
    const received: { body: string; signature: string | undefined }[] = [];
    let calls = 0;
    const server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        calls++;
        if (calls === 1) {
          res.writeHead(500).end();
          return;
        }
        received.push({ body, signature: req.headers["x-batchboard-signature"] as string | undefined });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    // a loopback receiver is a private address: allowed only through the allowlist
    process.env.BATCHBOARD_HTTP_ALLOWLIST = `127.0.0.1:${port}`;
    try {
      await expect(make("t-echo", 1, { webhook_url: "http://elsewhere.example/hook" })).rejects.toMatchObject({
        code: "validation_failed",
        details: [expect.objectContaining({ path: "webhook_url" })],
      });
      const b = await make("t-echo", 3, { webhook_url: `http://127.0.0.1:${port}/hook`, metadata: { team: "x" } });
      await waitFor("webhook delivered", async () => (await batchRow(b.id)).webhook_state === "delivered", 20_000);
      expect(calls).toBe(2);
      const row = await batchRow(b.id);
      expect(row.webhook_attempts).toBe(2);
      const secret = await getWebhookSecret();
      const { body, signature } = received[0]!;
      expect(signature).toBe(`sha256=${createHmac("sha256", secret).update(body).digest("hex")}`);
      const payload = JSON.parse(body);
      expect(payload.batch).toMatchObject({ id: b.id, status: "completed", progress: { succeeded: 3 }, metadata: { team: "x" } });

      // without the allowlist, delivery to a private address is refused and never reaches the receiver
      delete process.env.BATCHBOARD_HTTP_ALLOWLIST;
      const refused = await make("t-echo", 1, { webhook_url: `http://127.0.0.1:${port}/hook` });
      await waitFor("webhook refused", async () => String((await batchRow(refused.id)).webhook_last_error ?? "").includes("private address"), 20_000);
      expect(calls).toBe(2);
    } finally {
      delete process.env.BATCHBOARD_HTTP_ALLOWLIST;
      server.close();
    }
  });

  it("stats come from counters; workers register and heartbeat", async () => {
    const stats = await getStats();
    expect(stats.jobs.succeeded).toBeGreaterThan(0);
    expect(stats.workers.live).toBeGreaterThanOrEqual(1);
    expect(stats.throughput.last60m).toBeGreaterThan(0);
    const workers = await listWorkers();
    const me = workers.find((w) => w.id === worker.id);
    expect(me).toMatchObject({ mode: "in-process", concurrency: 16, alive: true, pid: process.pid });
  });
});
