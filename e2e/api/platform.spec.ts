import { readdirSync } from "node:fs";
import path from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { expect, test } from "@playwright/test";
import { createBatch, createPausedBatch, detailPaths, expectError, runEchoBatch, sseReader, waitForBatch, waitUntil } from "../fixtures";

/** Every app/api route file as an OpenAPI path: app/api/batches/[id]/route.ts -> /api/batches/{id}. */
function routePaths(dir = path.resolve("app/api")): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return routePaths(full);
    if (e.name !== "route.ts") return [];
    const rel = path.relative(path.resolve("app"), path.dirname(full)).split(path.sep).join("/");
    return [`/${rel}`.replace(/\[([^\]]+)\]/g, "{$1}")];
  });
}

test.describe("flows, prompts, stats, metrics, workers, events", () => {
  test("flows list each flow with a description and its parameters as JSON Schema", async ({ request }) => {
    const res = await request.get("/api/flows");
    expect(res.status()).toBe(200);
    const { items } = await res.json();
    const echo = items.find((f: { name: string }) => f.name === "echo");
    expect(echo).toMatchObject({ description: expect.any(String), default_dataset: "demo-reviews" });
    expect(echo.parameters_schema).toMatchObject({ type: "object", properties: { delay_ms: { type: "integer" } } });
  });

  test("prompts: list shape and filters; unknown prompt is 404; answers are validated first", async ({ request }) => {
    const list = await request.get("/api/prompts?status=open&limit=10");
    expect(list.status()).toBe(200);
    const page = await list.json();
    expect(page).toEqual({ items: expect.any(Array), next_cursor: null, total: expect.any(Number) });
    const byBatch = await (await request.get("/api/prompts?batch_id=batch_none")).json();
    expect(byBatch.total).toBe(0);
    expect(detailPaths(await expectError(await request.get("/api/prompts?status=closed"), 422, "validation_failed"))).toContain("status.0");
    await expectError(await request.get("/api/prompts/prompt_nope"), 404, "not_found");
    await expectError(await request.post("/api/prompts/prompt_nope/answer", { data: { answer: "yes" } }), 404, "not_found");
    expect(detailPaths(await expectError(await request.post("/api/prompts/prompt_nope/answer", { data: {} }), 422, "validation_failed"))).toContain("answer");
    await expectError(await request.post("/api/prompts/prompt_nope/answer", { data: Buffer.from("{"), headers: { "Content-Type": "application/json" } }), 400, "invalid_json");
  });

  test("prompts: an interactive batch asks; the answer is validated (422), accepted once (200), then 409", async ({ request }) => {
    const batch = await createBatch(request, { flow: "review", interactive: true, records: [{ id: "p1", text: "great" }], parameters: { options: ["yes", "no"] } });
    const prompt = await waitUntil(async () => {
      const page = await (await request.get(`/api/prompts?status=open&batch_id=${batch.id}`)).json();
      return page.items[0] as { id: string } | undefined;
    }, "the review prompt");
    const got = await (await request.get(`/api/prompts/${prompt.id}`)).json();
    expect(got).toMatchObject({
      id: prompt.id,
      batch_id: batch.id,
      record_id: "p1",
      status: "open",
      input: { type: "choice", options: [{ value: "yes" }, { value: "no" }], allow_free_text: false },
      record: { id: "p1", text: "great" },
    });
    // the prompt is stored as the flow asks; the job is parked a moment later, when its attempt ends
    const job = await waitUntil(async () => {
      const j = await (await request.get(`/api/batches/${batch.id}/jobs/p1`)).json();
      return j.status === "waiting_input" ? j : undefined;
    }, "the job to wait for input");
    expect(job.prompts.map((p: { id: string }) => p.id)).toEqual([prompt.id]);

    await expectError(await request.post(`/api/prompts/${prompt.id}/answer`, { data: { answer: "maybe" } }), 422, "validation_failed");
    const answered = await request.post(`/api/prompts/${prompt.id}/answer`, { data: { answer: "yes" } });
    expect(answered.status(), await answered.text()).toBe(200);
    expect(await answered.json()).toMatchObject({ id: prompt.id, status: "answered", answer: "yes" });
    await expectError(await request.post(`/api/prompts/${prompt.id}/answer`, { data: { answer: "no" } }), 409, "conflict");
    const done = await waitForBatch(request, batch.id);
    expect(done.progress.succeeded).toBe(1);
    const result = await (await request.get(`/api/batches/${batch.id}/jobs/p1`)).json();
    expect(result.result).toMatchObject({ label: "yes" });
  });

  test("stats: totals by status, active batches, queue depth, workers, throughput", async ({ request }) => {
    await runEchoBatch(request, 2);
    const paused = await createPausedBatch(request);
    const s = await (await request.get("/api/stats")).json();
    expect(Object.keys(s.jobs).sort()).toEqual(["cancelled", "failed", "pending", "running", "skipped", "succeeded", "waiting_input", "waiting_provider"]);
    expect(s.jobs.succeeded).toBeGreaterThanOrEqual(2);
    expect(s.batches.paused).toBeGreaterThanOrEqual(1);
    expect(s.batches.active).toBeGreaterThanOrEqual(1);
    expect(s.workers.live).toBeGreaterThanOrEqual(1);
    expect(s).toMatchObject({ queue_depth: expect.any(Number), open_prompts: expect.any(Number), series: expect.any(Array) });
    expect(Object.keys(s.throughput).sort()).toEqual(["last_1m", "last_5m", "last_60m"]);
    await request.post(`/api/batches/${paused.id}/cancel`);
  });

  test("metrics: Prometheus text with jobs and batches by status, queue depth, workers, throughput", async ({ request }) => {
    const res = await request.get("/api/metrics");
    expect(res.status()).toBe(200);
    expect(res.headers()["content-type"]).toContain("text/plain");
    const text = await res.text();
    expect(text).toMatch(/^# TYPE batchboard_jobs gauge$/m);
    expect(text).toMatch(/^batchboard_jobs\{status="succeeded"\} \d+$/m);
    expect(text).toMatch(/^batchboard_batches\{status="running"\} \d+$/m);
    expect(text).toMatch(/^batchboard_queue_depth \d+$/m);
    expect(text).toMatch(/^batchboard_workers_live \d+$/m);
    expect(text).toMatch(/^batchboard_throughput_jobs_per_second\{window="1m"\} [\d.e-]+$/m);
    // every sample line is `name{labels} value`
    for (const line of text.trim().split("\n").filter((l) => !l.startsWith("#"))) expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? -?[\d.e+-]+$/);
  });

  test("workers: the in-process worker is listed and alive", async ({ request }) => {
    const { items } = await (await request.get("/api/workers")).json();
    expect(items.some((w: { alive: boolean }) => w.alive)).toBe(true);
    expect(items[0]).toEqual(expect.objectContaining({ id: expect.any(String), pid: expect.any(Number), heartbeat_at: expect.any(String) }));
  });

  test("global events: prompts count first, then batch changes", async ({ request, baseURL }) => {
    const controller = new AbortController();
    const res = await fetch(`${baseURL}/api/events`, { signal: controller.signal });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const { readUntil } = sseReader(res);
    await readUntil(/event: prompts\ndata: \{"open":\d+\}/);
    const paused = await createPausedBatch(request);
    await readUntil(new RegExp(`event: batch\\ndata: \\{"id":"${paused.id}"`));
    controller.abort();
    await request.post(`/api/batches/${paused.id}/cancel`);
  });

  test("unknown API paths get the standard 404 body for every method", async ({ request }) => {
    await expectError(await request.get("/api/nope"), 404, "not_found");
    await expectError(await request.post("/api/nope/deeper", { data: {} }), 404, "not_found");
    await expectError(await request.delete("/api/batches/x/unknown-action"), 404, "not_found");
    await expectError(await request.put("/api/whatever"), 404, "not_found");
  });
});

test.describe("OpenAPI", () => {
  test("the document validates as OpenAPI 3.1 and lists every app/api route", async ({ request }) => {
    const res = await request.get("/api/openapi.json");
    expect(res.status()).toBe(200);
    const doc = await res.json();
    expect(doc.openapi).toBe("3.1.0");
    const result = await new Validator().validate(doc);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);

    const documented = Object.keys(doc.paths);
    const files = routePaths().filter((p) => !p.includes("{...")); // the catch-all 404 is not an endpoint
    expect(files.length).toBeGreaterThan(20);
    for (const p of files) expect(documented, `${p} is missing from the OpenAPI document`).toContain(p);
    // every documented operation has a response schema or a description, and the error body
    for (const [p, methods] of Object.entries(doc.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>)) {
      for (const [m, op] of Object.entries(methods)) expect(op.responses["4XX"], `${m} ${p}`).toBeTruthy();
    }
    expect(doc.components.schemas.Batch.properties.progress.properties.percent).toBeTruthy();
    expect(doc.components.schemas.CreateBatchRequest.required).toEqual(["flow"]);
  });

  test("/docs renders the reference from the same document", async ({ request }) => {
    const res = await request.get("/docs");
    expect(res.status()).toBe(200);
    const html = await res.text();
    expect(html).toContain("API reference");
    expect(html).toContain("POST /api/batches");
    expect(html).toContain("GET /api/batches/{id}/results");
  });
});
