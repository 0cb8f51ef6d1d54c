// A job is addressed by its record id (GET, retry and cancel under /api/batches/{id}/jobs/{record_id},
// and the jobs search). jobs has no index of its own on record_id: the id resolves through the
// batch's dataset to a position, then to the job (lib/engine/jobs.ts). These tests pin that every
// path finds exactly the right job, never one of another batch or of a record the batch left out.
import { beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { useTestDatabase } from "../helpers/db";
import { callRoute, loadApiRoutes, type ApiRoute, type Method } from "../helpers/routes";

process.env.BATCHBOARD_AUTH = "off";
useTestDatabase();

let routes: ApiRoute[];
beforeAll(async () => {
  routes = await loadApiRoutes();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function api(method: Method, pattern: string, { params, body, query }: { params?: Record<string, string>; body?: unknown; query?: string } = {}) {
  const route = routes.find((r) => r.pattern === pattern);
  if (!route) throw new Error(`no route ${pattern}`);
  const res = await callRoute(route, method, {
    params,
    query,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : null) as Json };
}

const JOB = "/api/batches/[id]/jobs/[recordId]";
const getJob = (id: string, recordId: string) => api("GET", JOB, { params: { id, recordId } });
const cancelJob = (id: string, recordId: string) => api("POST", `${JOB}/cancel`, { params: { id, recordId } });
const retryJob = (id: string, recordId: string) => api("POST", `${JOB}/retry`, { params: { id, recordId } });
const createBatch = (body: unknown) => api("POST", "/api/batches", { body });
const listJobs = (id: string, query: string) => api("GET", "/api/batches/[id]/jobs", { params: { id }, query });

async function statuses(batchId: string): Promise<Record<string, string>> {
  const { rows } = await getPool().query<{ record_id: string; status: string }>(
    "SELECT record_id, status FROM jobs WHERE batch_id = $1",
    [batchId],
  );
  return Object.fromEntries(rows.map((r) => [r.record_id, r.status]));
}

// ids a URL must carry intact, a number, and ones that are prefixes of each other
const IDS = ["a/b", "100%", "ü ñ", "x?y#z", "r1", "r10", "r100", "7", ...Array.from({ length: 22 }, (_, i) => `k${i}`)];
const records = IDS.map((id, n) => ({ id: id === "7" ? 7 : id, n }));

describe("jobs by record id", () => {
  it("GET finds each record's own job in a shuffled batch, and 404s for ids the batch does not hold", async () => {
    const b = await createBatch({ flow: "echo", records, seed: "by-record" });
    expect(b.status).toBe(201);
    const other = await createBatch({ flow: "echo", records: [{ id: "only-there" }, { id: "r1" }] });
    expect(other.status).toBe(201);

    const jobs = await listJobs(b.json.id, "limit=100");
    // shuffled: run order is not source order, so position and ordinal lookups differ
    expect(jobs.json.items.map((j: Json) => j.position)).not.toEqual(IDS.map((_, i) => i));
    for (const [position, id] of IDS.entries()) {
      const r = await getJob(b.json.id, id);
      expect(r.status, id).toBe(200);
      expect(r.json).toMatchObject({ record_id: id, position, batch_id: b.json.id, record: records[position] });
    }
    // the same id in another batch is that batch's job
    expect((await getJob(other.json.id, "r1")).json).toMatchObject({ record_id: "r1", position: 1, record: { id: "r1" } });
    for (const missing of ["only-there", "nope", "R1", "r1 ", "k"]) {
      const r = await getJob(b.json.id, missing);
      expect(r.status, missing).toBe(404);
      expect(r.json.error.code).toBe("not_found");
    }
    expect((await getJob("batch_missing", "r1")).status).toBe(404);
  });

  it("finds nothing for a record the batch left out (max_records) though its dataset holds it", async () => {
    const ds = await api("POST", "/api/datasets", { body: { name: "by-record-capped", records: IDS.map((id) => ({ id })) } });
    expect(ds.status).toBe(201);
    const b = await createBatch({ flow: "echo", dataset: "by-record-capped", max_records: 5, seed: "cap" });
    expect(b.status).toBe(201);
    const held = new Set(Object.keys(await statuses(b.json.id)));
    expect(held.size).toBe(5);
    for (const id of IDS) {
      const r = await getJob(b.json.id, id);
      expect(r.status, id).toBe(held.has(id) ? 200 : 404);
      if (held.has(id)) expect(r.json.record_id).toBe(id);
      const c = await cancelJob(b.json.id, id);
      expect(c.status, id).toBe(held.has(id) ? 200 : 404);
    }
  });

  it("cancel and retry act on exactly the job named, and the search finds it by record id", async () => {
    const b = await createBatch({ flow: "echo", records, seed: "acts" });
    const before = await statuses(b.json.id);
    expect(new Set(Object.values(before))).toEqual(new Set(["pending"]));

    const c = await cancelJob(b.json.id, "a/b");
    expect(c.status).toBe(200);
    expect(c.json).toMatchObject({ record_id: "a/b", status: "cancelled" });
    expect(await statuses(b.json.id)).toEqual({ ...before, "a/b": "cancelled" });
    expect((await cancelJob(b.json.id, "a/b")).status).toBe(409);
    expect((await cancelJob(b.json.id, "nope")).status).toBe(404);
    expect((await cancelJob(b.json.id, "k0")).status).toBe(200);

    expect((await retryJob(b.json.id, "r10")).status).toBe(409); // pending: nothing to retry
    const r = await retryJob(b.json.id, "a/b");
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ record_id: "a/b", status: "pending", attempts: 0, error: null });
    expect(await statuses(b.json.id)).toEqual({ ...before, k0: "cancelled" });
    expect((await retryJob(b.json.id, "nope")).status).toBe(404);
    const batch = await api("GET", "/api/batches/[id]", { params: { id: b.json.id } });
    expect(batch.json.progress).toMatchObject({ total: IDS.length, pending: IDS.length - 1, cancelled: 1 });

    const search = await listJobs(b.json.id, `q=${encodeURIComponent("r10")}`);
    expect(search.json.items.map((j: Json) => j.record_id).sort()).toEqual(["r10", "r100"]);
    expect(search.json.total).toBe(2);
  });

  it("still finds a finished batch's jobs by record id after its dataset was deleted", async () => {
    const ds = await api("POST", "/api/datasets", { body: { name: "by-record-deleted", records: IDS.map((id) => ({ id })) } });
    const b = await createBatch({ flow: "echo", dataset: ds.json.id, seed: "gone" });
    expect((await cancelJob(b.json.id, "k3")).status).toBe(200);
    expect((await api("POST", "/api/batches/[id]/cancel", { params: { id: b.json.id } })).status).toBe(200);
    expect((await api("DELETE", "/api/datasets/[id]", { params: { id: ds.json.id } })).status).toBe(204);
    for (const [position, id] of IDS.entries()) {
      const r = await getJob(b.json.id, id);
      expect(r.status, id).toBe(200);
      expect(r.json).toMatchObject({ record_id: id, position, status: "cancelled", record: null });
    }
    expect((await getJob(b.json.id, "nope")).status).toBe(404);
  });
});
