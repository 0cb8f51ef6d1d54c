// Running a batch again: the parent's settings with the caller's changes, on all its records or a
// selection, linked to its parent both ways; and the refusals.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchOptionsSchema, createBatchSchema } from "@/lib/contract/batch-options";
import { getPool } from "@/lib/db/client";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { sweepRetention } from "@/lib/engine/maintenance";
import { useTestDatabase } from "../helpers/db";
import { api, createBatch, finished } from "../security/api";

process.env.BATCHBOARD_AUTH = "off";
useTestDatabase();

let worker: WorkerHandle;
beforeAll(async () => {
  worker = await startWorker({ mode: "in-process", concurrency: 4, pollMs: 50, maintenanceMs: 200, log: () => {} });
});
afterAll(async () => {
  await worker?.stop(1000);
});

const records = Array.from({ length: 40 }, (_, i) => ({ id: `r${i}`, n: i }));
const clone = (id: string, body: unknown) => api("POST", "/api/batches/[id]/clone", { params: { id }, body });
const jobIds = async (batchId: string) =>
  (await getPool().query<{ record_id: string }>(`SELECT record_id FROM jobs WHERE batch_id = $1 ORDER BY record_id`, [batchId])).rows.map(
    (r) => r.record_id,
  );

describe("POST /api/batches/{id}/clone", () => {
  it("runs every record again with a changed parameter, keeping every other setting, and links parent and child", async () => {
    const parent = await createBatch({
      flow: "chaos",
      name: "first try",
      records,
      parameters: { failure_rate: 0.3, seed: "s1" },
      concurrency: 7,
      max_retries: 2,
      retry_backoff_ms: 10,
      priority: 3,
      seed: "order-1",
      error_threshold: { rate: 0.9, min_finished: 30 },
      metadata: { team: "x" },
    });
    expect(parent.status).toBe(201);
    await finished(parent.json.id);

    const child = await clone(parent.json.id, { parameters: { failure_rate: 0 }, name: "second try" });
    expect(child.status).toBe(201);
    expect(child.json).toMatchObject({
      parent_id: parent.json.id,
      name: "second try",
      flow: "chaos",
      dataset_id: parent.json.dataset_id,
      parameters: { failure_rate: 0, seed: "s1", transient: false, delay_ms: 0, cost_per_item: 0 },
      metadata: { team: "x" },
    });
    expect(child.json.progress.total).toBe(40);
    // every option a new batch takes is carried over (a new option must be too)
    const inherited = Object.keys(BatchOptionsSchema.shape).filter((k) => k in createBatchSchema.shape && k !== "dry_run");
    expect(inherited.length).toBeGreaterThan(10);
    for (const k of inherited) expect(child.json.options[k], k).toEqual(parent.json.options[k]);

    const done = await finished(child.json.id);
    expect(done.succeeded).toBe(40);

    const children = await api("GET", "/api/batches", { query: `parent=${parent.json.id}` });
    expect(children.json.items.map((b: { id: string }) => b.id)).toEqual([child.json.id]);
    const byId = await api("GET", "/api/batches", { query: `q=${child.json.id}` });
    expect(byId.json.items.map((b: { id: string }) => b.id)).toEqual([child.json.id]);
  });

  it("runs only the failed records, or the ones listed", async () => {
    const parent = await createBatch({ flow: "chaos", records, parameters: { failure_rate: 0.5, seed: "s2" } });
    const done = await finished(parent.json.id);
    const failed = (
      await getPool().query<{ record_id: string }>(`SELECT record_id FROM jobs WHERE batch_id = $1 AND status = 'failed' ORDER BY record_id`, [
        parent.json.id,
      ])
    ).rows.map((r) => r.record_id);
    expect(failed.length).toBe(done.failed);
    expect(failed.length).toBeGreaterThan(5);
    expect(failed.length).toBeLessThan(35);

    const again = await clone(parent.json.id, { records: "failed", parameters: { failure_rate: 0 } });
    expect(again.status).toBe(201);
    expect(again.json.progress.total).toBe(failed.length);
    expect(await jobIds(again.json.id)).toEqual(failed);
    expect((await finished(again.json.id)).succeeded).toBe(failed.length);

    const listed = await clone(parent.json.id, { records: ["r3", "r1", "r30"] });
    expect(listed.status).toBe(201);
    expect(await jobIds(listed.json.id)).toEqual(["r1", "r3", "r30"]);
  });

  it("refuses bad changes and empty selections with the one error body, creating nothing", async () => {
    const parent = await createBatch({ flow: "echo", records: records.slice(0, 3) });
    await finished(parent.json.id);
    const before = (await getPool().query<{ n: number }>(`SELECT count(*)::int AS n FROM batches`)).rows[0]!.n;

    const cases: [unknown, number, string][] = [
      [{ concurency: 3 }, 422, "concurency"],
      [{ concurrency: 5000 }, 422, "concurrency"],
      [{ parameters: { delay_ms: -1 } }, 422, "parameters.delay_ms"],
      [{ records: "some" }, 422, "records"],
      [{ records: [] }, 422, "records"],
      [{ records: "failed" }, 422, "records"],
      [{ record_id_field: "x" }, 422, "record_id_field"],
      [{ dataset: "no-such-dataset" }, 404, "dataset"],
    ];
    for (const [body, status, path] of cases) {
      const res = await clone(parent.json.id, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.json.error.details.map((d: { path?: string }) => d.path), JSON.stringify(body)).toContain(path);
    }
    const missing = await clone("b_nope", {});
    expect(missing.status).toBe(404);
    const after = (await getPool().query<{ n: number }>(`SELECT count(*)::int AS n FROM batches`)).rows[0]!.n;
    expect(after).toBe(before);
  });

  it("a child keeps its records and still names its parent when the retention sweep deletes the parent", async () => {
    const parent = await createBatch({ flow: "echo", records: records.slice(0, 5) });
    await finished(parent.json.id);
    const child = await clone(parent.json.id, {});
    await finished(child.json.id);
    await getPool().query(`UPDATE batches SET completed_at = now() - interval '10 days' WHERE id = $1`, [parent.json.id]);
    expect(await sweepRetention(5)).toBe(1);
    expect((await api("GET", "/api/batches/[id]", { params: { id: parent.json.id } })).status).toBe(404);
    const read = await api("GET", "/api/batches/[id]", { params: { id: child.json.id } });
    // the dashboard shows that parent as deleted rather than forgetting the child was run again
    expect(read.json.parent_id).toBe(parent.json.id);
    expect(read.json.dataset_id).toBe(parent.json.dataset_id);
    const results = await api("GET", "/api/batches/[id]/results", { params: { id: child.json.id } });
    expect(results.text.trim().split("\n").map((l) => JSON.parse(l).record_id)).toEqual(["r0", "r1", "r2", "r3", "r4"]);
  });
});
