import http from "node:http";
import { expect, test } from "@playwright/test";
import { createBatch, createDataset, createPausedBatch, detailPaths, expectError, getBatch, inlineRecords, runEchoBatch, unique, type BatchJson } from "../fixtures";

test.describe("batches", () => {
  test("a request with the common options works as written, then status, list, jobs and cancel", async ({ request }) => {
    // shuffle, a record cap, concurrency and the error policy, with a real flow and valid parameters for it
    const res = await request.post("/api/batches", {
      data: { flow: "echo", shuffle: true, max_records: 100, concurrency: 5, error_policy: "continue", parameters: { delay_ms: 200 } },
    });
    expect(res.status(), await res.text()).toBe(201);
    const batch = (await res.json()) as BatchJson;
    expect(batch.id).toMatch(/^batch_/);
    expect(batch).toMatchObject({ flow: "echo", parameters: { delay_ms: 200 } });
    expect(batch.options).toMatchObject({ shuffle: true, max_records: 100, concurrency: 5, error_policy: "continue" });
    expect(batch.progress.total).toBeGreaterThan(0);
    expect(batch.progress.total).toBeLessThanOrEqual(100);

    const status = await getBatch(request, batch.id);
    expect(status.id).toBe(batch.id);
    expect(["pending", "running", "completed"]).toContain(status.status);

    const list = await (await request.get("/api/batches")).json();
    expect(list.items.map((b: BatchJson) => b.id)).toContain(batch.id);

    const jobs = await request.get(`/api/batches/${batch.id}/jobs`);
    expect(jobs.status()).toBe(200);
    const page = await jobs.json();
    expect(page.total).toBe(batch.progress.total);
    expect(page.items[0]).toEqual(
      expect.objectContaining({ record_id: expect.any(String), ordinal: 0, status: expect.any(String), attempts: expect.any(Number) }),
    );

    const cancelled = await request.delete(`/api/batches/${batch.id}`);
    const after = (await cancelled.json()) as BatchJson;
    // it may have finished already on a fast machine; then cancel is the documented 409
    if (cancelled.status() === 200) {
      expect(after.status).toBe("cancelled");
      expect(after.stop_reason).toBe("cancelled");
    } else {
      expect(cancelled.status()).toBe(409);
    }
    expect((await getBatch(request, batch.id)).status).toMatch(/cancelled|completed/);
  });

  test("every option round-trips in snake_case with derived progress, cost and timing", async ({ request }) => {
    const batch = await createBatch(request, {
      flow: "echo",
      name: unique("opts"),
      parameters: { delay_ms: 0 },
      records: ["alpha", "beta", { id: "g", v: 1 }],
      shuffle: false,
      seed: "s1",
      max_records: 2,
      concurrency: 7,
      chunk_size: 1,
      error_policy: "stop",
      error_threshold: { rate: 0.5, min_finished: 2 },
      interactive: false,
      max_retries: 2,
      max_interruptions: 1,
      retry_backoff_ms: 10,
      timeout_ms: 5000,
      max_cost: 10,
      cost_reservation: { per_record: 0.5 },
      priority: 3,
      metadata: { team: "qa" },
      webhook_url: "http://127.0.0.1:9/hook",
      dry_run: false,
      ttl_seconds: 7200,
      save_raw: true,
      cache: true,
      cache_max_age: 3600,
      cache_answers: true,
      rate_limit: { requests_per_minute: 600, tokens_per_minute: 100000 },
    });
    expect(batch.options).toEqual({
      shuffle: false,
      seed: "s1",
      max_records: 2,
      concurrency: 7,
      chunk_size: 1,
      error_policy: "stop",
      error_threshold: { rate: 0.5, min_finished: 2 },
      interactive: false,
      max_retries: 2,
      max_interruptions: 1,
      retry_backoff_ms: 10,
      timeout_ms: 5000,
      max_cost: 10,
      cost_reservation: { per_record: 0.5 },
      priority: 3,
      webhook_url: "http://127.0.0.1:9/hook",
      dry_run: false,
      ttl_seconds: 7200,
      save_raw: true,
      cache: true,
      cache_max_age: 3600,
      cache_answers: true,
      rate_limit: { requests_per_minute: 600, tokens_per_minute: 100000 },
    });
    expect(batch.metadata).toEqual({ team: "qa" });
    expect(batch.progress.total).toBe(2);
    expect(Object.keys(batch.progress).sort()).toEqual(["cancelled", "failed", "pending", "percent", "reserved", "running", "skipped", "succeeded", "total", "waiting_input", "waiting_provider"]);
    expect(Object.keys(batch.cost).sort()).toEqual(["max", "projected_total", "spent"]);
    expect((batch as unknown as { reused: unknown }).reused).toEqual({ jobs: 0, saved_cost: 0 });
    expect(Object.keys(batch.timing).sort()).toEqual(["completed_at", "created_at", "duration_seconds", "eta_seconds", "items_per_second", "started_at"]);
  });

  test("defaults: shuffle true, concurrency 5, error_policy continue", async ({ request }) => {
    const batch = await createBatch(request, { flow: "echo", records: inlineRecords(2) });
    expect(batch.options).toMatchObject({ shuffle: true, concurrency: 5, error_policy: "continue", interactive: false, dry_run: false, save_raw: false });
  });

  test("a finished batch reports 100%, its duration and its rate", async ({ request }) => {
    const done = await runEchoBatch(request, 4);
    expect(done.status).toBe("completed");
    expect(done.progress).toMatchObject({ total: 4, succeeded: 4, failed: 0, pending: 0, percent: 100 });
    expect(done.timing.completed_at).not.toBeNull();
    expect(done.timing.duration_seconds).not.toBeNull();
    expect(done.timing.eta_seconds).toBeNull();
  });

  test("a dataset by name or id is a source; dry_run takes the first 10", async ({ request }) => {
    const ds = await createDataset(request, inlineRecords(15, "d"));
    const byName = await createBatch(request, { flow: "echo", dataset: ds.name, dry_run: true });
    expect(byName.dataset_id).toBe(ds.id);
    expect(byName.progress.total).toBe(10);
    const byId = await createBatch(request, { flow: "echo", dataset: ds.id, max_records: 3 });
    expect(byId.progress.total).toBe(3);
  });

  test("Idempotency-Key: same key and body replays; another body is a 409", async ({ request }) => {
    const key = unique("idem");
    const body = { flow: "echo", records: inlineRecords(2), parameters: {} };
    const first = await request.post("/api/batches", { data: body, headers: { "Idempotency-Key": key } });
    expect(first.status()).toBe(201);
    const original = (await first.json()) as BatchJson;
    // same body, keys in another order
    const replay = await request.post("/api/batches", { data: { parameters: {}, records: inlineRecords(2), flow: "echo" }, headers: { "Idempotency-Key": key } });
    expect(replay.status()).toBe(201);
    expect(replay.headers()["idempotent-replayed"]).toBe("true");
    expect(((await replay.json()) as BatchJson).id).toBe(original.id);
    const conflict = await request.post("/api/batches", { data: { ...body, records: inlineRecords(3) }, headers: { "Idempotency-Key": key } });
    const err = await expectError(conflict, 409, "conflict");
    expect(err.message).toMatch(/Idempotency-Key/);
    const list = await (await request.get(`/api/batches?limit=1000`)).json();
    expect(list.items.filter((b: BatchJson) => b.id === original.id)).toHaveLength(1);
  });

  test("list: newest first, filters by status, flow and q, cursor pagination with a total", async ({ request }) => {
    const tag = unique("list");
    const made: BatchJson[] = [];
    for (let i = 0; i < 3; i++) made.push(await createBatch(request, { flow: "echo", name: `${tag}-${i}`, records: inlineRecords(1) }));
    const page1 = await (await request.get(`/api/batches?q=${tag}&limit=2`)).json();
    expect(page1.total).toBe(3);
    expect(page1.items.map((b: BatchJson) => b.name)).toEqual([`${tag}-2`, `${tag}-1`]);
    expect(page1.next_cursor).toEqual(expect.any(String));
    const page2 = await (await request.get(`/api/batches?q=${tag}&limit=2&cursor=${encodeURIComponent(page1.next_cursor)}`)).json();
    expect(page2.items.map((b: BatchJson) => b.name)).toEqual([`${tag}-0`]);
    expect(page2.next_cursor).toBeNull();

    const paused = await createPausedBatch(request, { name: `${tag}-paused` });
    const byStatus = await (await request.get(`/api/batches?q=${tag}&status=paused`)).json();
    expect(byStatus.items.map((b: BatchJson) => b.id)).toEqual([paused.id]);
    const byTwo = await (await request.get(`/api/batches?q=${tag}&status=paused,cancelled`)).json();
    expect(byTwo.total).toBe(1);
    const byFlow = await (await request.get(`/api/batches?q=${tag}&flow=nope`)).json();
    expect(byFlow.total).toBe(0);
    await request.post(`/api/batches/${paused.id}/cancel`);
  });

  test("list: malformed cursor and out-of-range limit are 422, never 500", async ({ request }) => {
    expect(detailPaths(await expectError(await request.get("/api/batches?cursor=not-a-cursor"), 422, "validation_failed"))).toContain("cursor");
    expect(detailPaths(await expectError(await request.get("/api/batches?limit=0"), 422, "validation_failed"))).toContain("limit");
    expect(detailPaths(await expectError(await request.get("/api/batches?limit=1001"), 422, "validation_failed"))).toContain("limit");
    expect(detailPaths(await expectError(await request.get("/api/batches?limit=abc"), 422, "validation_failed"))).toContain("limit");
    expect(detailPaths(await expectError(await request.get("/api/batches?status=bogus"), 422, "validation_failed"))).toContain("status.0");
  });

  test("pause, resume, cancel; finished batches answer 409 naming their status", async ({ request }) => {
    const paused = await createPausedBatch(request);
    expect(paused.status).toBe("paused");
    const resumed = await request.post(`/api/batches/${paused.id}/resume`);
    expect(resumed.status()).toBe(200);
    expect(((await resumed.json()) as BatchJson).status).toMatch(/pending|running/);
    const cancelled = await request.post(`/api/batches/${paused.id}/cancel`);
    expect(cancelled.status()).toBe(200);
    expect(((await cancelled.json()) as BatchJson).status).toBe("cancelled");
    for (const action of ["cancel", "pause", "resume"]) {
      const err = await expectError(await request.post(`/api/batches/${paused.id}/${action}`), 409, "conflict");
      expect(err.message).toContain("cancelled");
    }
    const err = await expectError(await request.delete(`/api/batches/${paused.id}`), 409, "conflict");
    expect(err.message).toContain("cancelled");

    const done = await runEchoBatch(request, 1);
    expect((await expectError(await request.post(`/api/batches/${done.id}/cancel`), 409, "conflict")).message).toContain("completed");
  });

  test("retry re-queues failed jobs (default) and other statuses on request", async ({ request }) => {
    const paused = await createPausedBatch(request);
    await request.post(`/api/batches/${paused.id}/cancel`);
    const none = await request.post(`/api/batches/${paused.id}/retry`);
    expect(none.status(), await none.text()).toBe(200);
    expect(await none.json()).toMatchObject({ retried: 0, batch: { id: paused.id } });
    const some = await request.post(`/api/batches/${paused.id}/retry`, { data: { statuses: ["cancelled"] } });
    expect(some.status(), await some.text()).toBe(200);
    const out = await some.json();
    expect(out.retried).toBeGreaterThan(0);
    expect(out.batch.status).not.toBe("cancelled");
    await request.post(`/api/batches/${paused.id}/cancel`);
    expect(detailPaths(await expectError(await request.post(`/api/batches/${paused.id}/retry`, { data: { statuses: ["succeeded"] } }), 422, "validation_failed"))).toContain(
      "statuses.0",
    );
  });

  test("create errors: invalid JSON 400, wrong content type 415, validation 422 with field paths", async ({ request }) => {
    await expectError(await request.post("/api/batches", { data: Buffer.from("{not json"), headers: { "Content-Type": "application/json" } }), 400, "invalid_json");
    await expectError(await request.post("/api/batches", { data: "flow=echo", headers: { "Content-Type": "application/x-www-form-urlencoded" } }), 415, "unsupported_media_type");
    const missing = await expectError(await request.post("/api/batches", { data: {} }), 422, "validation_failed");
    expect(detailPaths(missing)).toContain("flow");
    const bad = await expectError(
      await request.post("/api/batches", { data: { flow: "echo", concurrency: 1001, concurency: 3, error_policy: "sometimes", shuffle: "yes", error_threshold: { rate: 2, min_finished: 0 } } }),
      422,
      "validation_failed",
    );
    expect(detailPaths(bad)).toEqual(expect.arrayContaining(["concurrency", "concurency", "error_policy", "shuffle", "error_threshold.rate", "error_threshold.min_finished"]));
    expect(detailPaths(await expectError(await request.post("/api/batches", { data: { flow: "echo", concurrency: 0, records: ["a"] } }), 422, "validation_failed"))).toContain("concurrency");
    const params = await expectError(await request.post("/api/batches", { data: { flow: "echo", parameters: { delay_ms: "soon" }, records: ["a"] } }), 422, "validation_failed");
    expect(detailPaths(params)).toContain("parameters.delay_ms");
    const both = await expectError(await request.post("/api/batches", { data: { flow: "echo", records: ["a"], dataset: "x" } }), 422, "validation_failed");
    expect(detailPaths(both)).toContain("records");
    const badRecord = await expectError(await request.post("/api/batches", { data: { flow: "echo", records: [{ id: "a" }, { text: "no id" }] } }), 422, "validation_failed");
    expect(detailPaths(badRecord)).toContain("records.1.id");
    const dup = await expectError(await request.post("/api/batches", { data: { flow: "echo", records: [{ id: "a" }, { id: "a" }] } }), 422, "validation_failed");
    expect(detailPaths(dup).some((p) => p?.startsWith("records.1"))).toBe(true);
  });

  test("create errors: unknown flow and unknown dataset are 404", async ({ request }) => {
    const flow = await expectError(await request.post("/api/batches", { data: { flow: "no_such_flow", records: ["a"] } }), 404, "not_found");
    expect(flow.message).toContain("no_such_flow");
    const ds = await expectError(await request.post("/api/batches", { data: { flow: "echo", dataset: "no-such-dataset" } }), 404, "not_found");
    expect(ds.message).toContain("no-such-dataset");
  });

  test("limits: too many inline records is 422 limit_exceeded naming the limit; an oversized body is 413", async ({ request, baseURL }) => {
    const maxInline = Number(process.env.BATCHBOARD_MAX_INLINE_RECORDS ?? 100_000);
    const tooMany = Array.from({ length: maxInline + 1 }, (_, i) => String(i));
    const err = await expectError(await request.post("/api/batches", { data: { flow: "echo", records: tooMany } }), 422, "limit_exceeded");
    expect(err.message).toContain(String(maxInline));

    const maxBody = Number(process.env.BATCHBOARD_MAX_BODY_BYTES ?? 64 * 1024 * 1024);
    const tooBig = await postOversized(`${baseURL}/api/batches`, maxBody + 1024);
    expect(tooBig.status, tooBig.text).toBe(413);
    const body = JSON.parse(tooBig.text) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("payload_too_large");
    expect(body.error.message).toContain(String(maxBody));
  });

  test("unknown batch is 404 on every batch route", async ({ request }) => {
    const id = "batch_does_not_exist";
    await expectError(await request.get(`/api/batches/${id}`), 404, "not_found");
    await expectError(await request.delete(`/api/batches/${id}`), 404, "not_found");
    for (const a of ["cancel", "pause", "resume", "retry"]) await expectError(await request.post(`/api/batches/${id}/${a}`), 404, "not_found");
    for (const p of ["jobs", "results", "metrics", "events", "jobs/r1"]) await expectError(await request.get(`/api/batches/${id}/${p}`), 404, "not_found");
  });
});

/**
 * POSTs a JSON body of `size` bytes the way a client streams one: headers first, then the bytes,
 * reading the answer whenever it comes. The server refuses an oversized body as soon as its
 * Content-Length says so and closes the connection; a client that only reads after writing
 * everything (Playwright's request) can then fail with EPIPE before it sees the 413.
 */
function postOversized(url: string, size: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(url, { method: "POST", headers: { "content-type": "application/json", "content-length": String(size) } }, (res) => {
      answered = true;
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      res.on("error", reject);
    });
    // once answered, a write cut off by the server's close is expected
    req.on("error", (err) => (answered ? undefined : reject(err)));
    const chunk = Buffer.alloc(1024 * 1024, "x");
    let sent = 0;
    const write = () => {
      while (!answered && sent < size) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once("drain", write);
      }
      if (!answered) req.end();
    };
    req.write('{"flow":"echo","name":"');
    sent = '{"flow":"echo","name":"'.length;
    write();
  });
}
