import { expect, test } from "@playwright/test";
import { createPausedBatch, detailPaths, expectError, runEchoBatch, sseReader } from "../fixtures";

test.describe("jobs, results, metrics, events", () => {
  test("jobs: filter by status and q, sort by ordinal or finish time, paginate", async ({ request }) => {
    const batch = await runEchoBatch(request, 6);
    const all = await (await request.get(`/api/batches/${batch.id}/jobs?limit=4`)).json();
    expect(all.total).toBe(6);
    expect(all.items.map((j: { ordinal: number }) => j.ordinal)).toEqual([0, 1, 2, 3]);
    const rest = await (await request.get(`/api/batches/${batch.id}/jobs?limit=4&cursor=${encodeURIComponent(all.next_cursor)}`)).json();
    expect(rest.items.map((j: { ordinal: number }) => j.ordinal)).toEqual([4, 5]);
    expect(rest.next_cursor).toBeNull();

    const job = all.items[0];
    expect(job).toMatchObject({ status: "succeeded", attempts: 1, error: null });
    expect(job.finished_at).toEqual(expect.any(String));
    expect(job.duration_ms).toEqual(expect.any(Number));

    const found = await (await request.get(`/api/batches/${batch.id}/jobs?q=r3`)).json();
    expect(found.items.map((j: { record_id: string }) => j.record_id)).toEqual(["r3"]);
    const failed = await (await request.get(`/api/batches/${batch.id}/jobs?status=failed`)).json();
    expect(failed.total).toBe(0);
    const finished = await (await request.get(`/api/batches/${batch.id}/jobs?sort=finished`)).json();
    expect(finished.items).toHaveLength(6);
    const times = finished.items.map((j: { finished_at: string }) => j.finished_at);
    expect([...times].sort().reverse()).toEqual(times);

    expect(detailPaths(await expectError(await request.get(`/api/batches/${batch.id}/jobs?sort=random`), 422, "validation_failed"))).toContain("sort");
    expect(detailPaths(await expectError(await request.get(`/api/batches/${batch.id}/jobs?cursor=bm90LWpzb24`), 422, "validation_failed"))).toContain("cursor");
  });

  test("job detail: record, result, logs, prompts; unknown record is 404", async ({ request }) => {
    const batch = await runEchoBatch(request, 2);
    const res = await request.get(`/api/batches/${batch.id}/jobs/r1`);
    expect(res.status()).toBe(200);
    const job = await res.json();
    expect(job).toMatchObject({ batch_id: batch.id, record_id: "r1", status: "succeeded", record: { id: "r1", text: "record 1" }, result: { id: "r1", text: "record 1" } });
    expect(Array.isArray(job.logs)).toBe(true);
    expect(job.prompts).toEqual([]);
    expect(job.run_at).toEqual(expect.any(String));
    await expectError(await request.get(`/api/batches/${batch.id}/jobs/nope`), 404, "not_found");
    await expectError(await request.post(`/api/batches/${batch.id}/jobs/nope/retry`), 404, "not_found");
    await expectError(await request.post(`/api/batches/${batch.id}/jobs/nope/cancel`), 404, "not_found");
  });

  test("job cancel cancels one pending job; job retry re-queues it; a succeeded job is not retried (409)", async ({ request }) => {
    const paused = await createPausedBatch(request);
    const jobs = await (await request.get(`/api/batches/${paused.id}/jobs?status=pending`)).json();
    const target = jobs.items[0].record_id as string;
    const cancelled = await request.post(`/api/batches/${paused.id}/jobs/${target}/cancel`);
    expect(cancelled.status(), await cancelled.text()).toBe(200);
    expect(await cancelled.json()).toMatchObject({ batch_id: paused.id, record_id: target, status: "cancelled" });
    expect((await (await request.get(`/api/batches/${paused.id}`)).json()).progress.cancelled).toBe(1);
    const retried = await request.post(`/api/batches/${paused.id}/jobs/${target}/retry`);
    expect(retried.status(), await retried.text()).toBe(200);
    expect(await retried.json()).toMatchObject({ record_id: target, status: "pending" });
    await request.post(`/api/batches/${paused.id}/cancel`);

    const done = await runEchoBatch(request, 1);
    expect((await expectError(await request.post(`/api/batches/${done.id}/jobs/r0/retry`), 409, "conflict")).message).toContain("succeeded");
  });

  test("results stream in source order as jsonl, csv and openai, filtered by status", async ({ request }) => {
    const batch = await runEchoBatch(request, 5, { shuffle: true });
    const jsonl = await request.get(`/api/batches/${batch.id}/results?format=jsonl`);
    expect(jsonl.status()).toBe(200);
    expect(jsonl.headers()["content-type"]).toContain("application/x-ndjson");
    expect(jsonl.headers()["content-disposition"]).toContain(`${batch.id}-results.jsonl`);
    const lines = (await jsonl.text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.record_id)).toEqual(["r0", "r1", "r2", "r3", "r4"]);
    expect(lines[2]).toEqual({ record_id: "r2", status: "succeeded", result: { id: "r2", text: "record 2" }, error: null, cost: 0 });

    const csv = await request.get(`/api/batches/${batch.id}/results?format=csv`);
    expect(csv.headers()["content-type"]).toContain("text/csv");
    const rows = (await csv.text()).trim().split(/\r?\n/);
    expect(rows[0]).toBe("record_id,position,status,result,error_code,error_message,cost");
    expect(rows).toHaveLength(6);
    expect(rows[1]).toMatch(/^r0,0,succeeded,"\{""id"":""r0""/);

    const openai = (await (await request.get(`/api/batches/${batch.id}/results?format=openai`)).text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(openai[0]).toMatchObject({ custom_id: "r0", response: { status_code: 200, body: { id: "r0" } }, error: null });

    const none = await request.get(`/api/batches/${batch.id}/results?status=failed`);
    expect((await none.text()).trim()).toBe("");
    expect(detailPaths(await expectError(await request.get(`/api/batches/${batch.id}/results?format=xml`), 422, "validation_failed"))).toContain("format");
  });

  test("metrics: a series with succeeded/failed per bucket and duration percentiles", async ({ request }) => {
    const batch = await runEchoBatch(request, 3);
    const res = await request.get(`/api/batches/${batch.id}/metrics?bucket=60`);
    expect(res.status()).toBe(200);
    const m = await res.json();
    expect(m.bucket_seconds).toBe(60);
    const total = m.series.reduce((s: number, p: { succeeded: number }) => s + p.succeeded, 0);
    expect(total).toBe(3);
    expect(m.series[0]).toEqual(
      expect.objectContaining({ t: expect.any(String), failed: 0, cost: expect.any(Number), cumulative_cost: expect.any(Number) }),
    );
    expect((await (await request.get(`/api/batches/${batch.id}/metrics`)).json()).bucket_seconds).toBeGreaterThan(0);
    expect(detailPaths(await expectError(await request.get(`/api/batches/${batch.id}/metrics?bucket=0`), 422, "validation_failed"))).toContain("bucket");
  });

  test("events: SSE sends the batch, its changes, then end", async ({ request, baseURL }) => {
    const paused = await createPausedBatch(request);
    const controller = new AbortController();
    const res = await fetch(`${baseURL}/api/batches/${paused.id}/events`, { signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const { readUntil, text, reader } = sseReader(res);
    await readUntil(/event: batch\ndata: \{[^\n]*"status":"paused"/);
    await request.post(`/api/batches/${paused.id}/cancel`);
    await readUntil(/event: end\ndata: \{"status":"cancelled"\}/);
    expect(text()).toMatch(/"status":"cancelled"/);
    const { done } = await reader.read();
    expect(done).toBe(true);
    controller.abort();
  });
});
