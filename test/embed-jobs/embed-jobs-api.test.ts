// The /api/batch embedding job API against a real database, a real worker and an OpenAI-compatible
// mock upstream: submit, status, results in document order, cancel, list, stats, and the one-hour
// expiry (404, then deleted by the retention sweep), plus ttl_seconds on POST /api/batches.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { getBatch } from "@/lib/engine";
import { sweepRetention } from "@/lib/engine/maintenance";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { startOpenAIMock, type OpenAIMock } from "@/test/support/openai-mock";
import { waitFor } from "@/test/support/wait";
import { useTestDatabase } from "../helpers/db";
import { callRoute, loadApiRoutes, type ApiRoute, type CallOptions, type Method } from "../helpers/routes";

// read once by lib/config, as at start-up: set before anything routes
const mock: OpenAIMock = await startOpenAIMock({ keys: { "/v1/": "sk-default", "/emb/v1/": "sk-emb" } });
process.env.BATCHBOARD_AUTH = "off";
process.env.BATCHBOARD_HTTP_ALLOWLIST = "127.0.0.1";
process.env.OPENAI_BASE_URL = `${mock.url}/v1`;
process.env.OPENAI_API_KEY = "sk-default";
process.env.EMB_KEY = "sk-emb";
process.env.BATCHBOARD_MODEL_ROUTES = `emb-*=${mock.url}/emb/v1;key=EMB_KEY;input_per_1m=1000`;

useTestDatabase();
let worker: WorkerHandle;
let routes: ApiRoute[];

beforeAll(async () => {
  routes = [...(await loadApiRoutes(path.resolve("app/api/batch"))), ...(await loadApiRoutes(path.resolve("app/api/stats")))];
  routes.push(...(await loadApiRoutes(path.resolve("app/api/batches"))).filter((r) => r.pattern === "/api/batches"));
  worker = await startWorker({ mode: "in-process", concurrency: 8, pollMs: 50, maintenanceMs: 100, log: () => {} });
});
afterAll(async () => {
  await worker?.stop(1000);
  await mock.close();
});

async function call<T = Record<string, unknown>>(method: Method, pattern: string, options: CallOptions = {}): Promise<{ status: number; body: T }> {
  const route = routes.find((r) => r.pattern === pattern);
  if (!route) throw new Error(`no route ${pattern}`);
  const res = await callRoute(route, method, options);
  return { status: res.status, body: (await res.json()) as T };
}
const json = (value: unknown): CallOptions => ({ headers: { "content-type": "application/json" }, body: JSON.stringify(value) });

interface Job {
  job_id: string;
  job_type: string;
  status: string;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  expires_at: string | null;
  progress: { total_items: number; completed_items: number; failed_items: number; percent: number };
  duration_seconds: number | null;
  metadata: Record<string, unknown>;
  errors: string[];
}
interface Results {
  job_id: string;
  status: string;
  results: ({ index: number; embedding: number[] } | null)[];
  errors: { index: number; code: string; message: string }[];
  total_items: number;
  completed_items: number;
  failed_items: number;
}
interface ErrorBody {
  error: { code: string; message: string; details: { path?: string; message: string }[] };
}

async function submit(body: Record<string, unknown>) {
  const res = await call<{ job_id: string; status: string; total_items: number; message: string }>("POST", "/api/batch/embed", json(body));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}
const job = (id: string) => call<Job>("GET", "/api/batch/jobs/[id]", { params: { id } });
const results = (id: string) => call<Results>("GET", "/api/batch/results/[id]", { params: { id } });
const waitStatus = (id: string, statuses: string[]) =>
  waitFor(`job ${id} to be ${statuses.join("|")}`, async () => {
    const j = await job(id);
    return statuses.includes(j.body.status) && j.body;
  }, 30_000, 50);
/** The mock's embedding of a text: four numbers from its length. */
const embeddingOf = (text: string) => Array.from({ length: 4 }, (_, i) => (text.length + i) / 10);

describe("POST /api/batch/embed", () => {
  it("embeds the documents in order through the model's route and reads status and results as this API words them", async () => {
    const documents = ["Document 1 content here", "Doc 2", "a third, longer document than the others", ""];
    const submitted = await submit({ model: "emb-small", documents, metadata: { source: "knowledge_base" } });
    expect(submitted).toEqual({
      job_id: expect.any(String),
      status: expect.stringMatching(/^(pending|running)$/),
      total_items: 4,
      message: "Batch embedding job submitted with 4 documents",
    });
    const done = await waitStatus(submitted.job_id, ["completed"]);
    expect(done).toMatchObject({
      job_id: submitted.job_id,
      job_type: "embed",
      progress: { total_items: 4, completed_items: 4, failed_items: 0, percent: 100 },
      metadata: { source: "knowledge_base", model: "emb-small" },
      errors: [],
    });
    expect(Date.parse(done.started_at!)).toBeGreaterThanOrEqual(Date.parse(done.created_at));
    expect(done.duration_seconds).toBeCloseTo((Date.parse(done.completed_at!) - Date.parse(done.started_at!)) / 1000, 2);
    expect(Date.parse(done.expires_at!) - Date.parse(done.completed_at!)).toBe(3600_000);

    const res = await results(submitted.job_id);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      job_id: submitted.job_id,
      status: "completed",
      results: documents.map((d, index) => ({ index, embedding: embeddingOf(d) })),
      errors: [],
      total_items: 4,
      completed_items: 4,
      failed_items: 0,
    });
    // the model's route: its URL and its key, the document as the input
    const sent = mock.requests.filter((r) => r.body.model === "emb-small");
    expect(sent.map((r) => r.path)).toEqual(Array(4).fill("/emb/v1/embeddings"));
    expect(new Set(sent.map((r) => r.authorization))).toEqual(new Set(["Bearer sk-emb"]));
    expect(sent.map((r) => r.body.input).sort()).toEqual([...documents].sort());

    // an ordinary batch underneath: the embed flow over the documents, unshuffled, kept for an hour
    const batch = await getBatch(submitted.job_id);
    expect(batch).toMatchObject({ flow: "embed", status: "completed", parameters: { model: "emb-small", input: "{{record}}" } });
    expect(batch).toMatchObject({ shuffle: false, ttlSeconds: 3600 });
    expect(batch.costSpent).toBeCloseTo((4 * 3 * 1000) / 1_000_000, 9);
  });

  it("a model no route matches goes to OPENAI_BASE_URL with OPENAI_API_KEY", async () => {
    const { job_id } = await submit({ model: "text-embedding-3-small", documents: ["plain"] });
    await waitStatus(job_id, ["completed"]);
    const sent = mock.requests.filter((r) => r.body.model === "text-embedding-3-small");
    expect(sent).toEqual([{ path: "/v1/embeddings", authorization: "Bearer sk-default", body: { model: "text-embedding-3-small", input: "plain" } }]);
  });

  it("answers 400 with the limit's message to more than 10,000 documents, and creates nothing", async () => {
    const before = (await getPool().query(`SELECT count(*)::int AS n FROM batches`)).rows[0].n;
    for (const [n, message] of [
      [10_001, "Maximum 10,000 documents per batch. Got 10,001."],
      [15_000, "Maximum 10,000 documents per batch. Got 15,000."],
    ] as const) {
      const res = await call<ErrorBody>("POST", "/api/batch/embed", json({ model: "emb-small", documents: Array.from({ length: n }, (_, i) => `d${i}`) }));
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: "bad_request", message, details: [{ path: "documents" }] });
    }
    expect((await getPool().query(`SELECT count(*)::int AS n FROM batches`)).rows[0].n).toBe(before);
  });

  it("takes exactly 10,000 documents", async () => {
    const { job_id, total_items } = await submit({ model: "slow", documents: Array.from({ length: 10_000 }, (_, i) => `d${i}`) });
    expect(total_items).toBe(10_000);
    expect((await call("DELETE", "/api/batch/jobs/[id]", { params: { id: job_id } })).status).toBe(200);
  });

  it("refuses a bad body with 422 naming the field", async () => {
    for (const [body, path] of [
      [{ documents: ["a"] }, "model"],
      [{ model: "emb-small", documents: [] }, "documents"],
      [{ model: "emb-small", documents: ["a", 2] }, "documents.1"],
      [{ model: "emb-small", documents: "a" }, "documents"],
      [{ model: "emb-small", documents: ["a"], metadata: "x" }, "metadata"],
      [{ model: "emb-small", documents: ["a"], modle: "typo" }, "modle"],
    ] as const) {
      const res = await call<ErrorBody>("POST", "/api/batch/embed", json(body));
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.details.map((d) => d.path)).toContain(path);
    }
  });
});

describe("failures, cancel and list", () => {
  it("documents the upstream refuses are errors, in document order, with null results", async () => {
    const { job_id } = await submit({ model: "reject", documents: ["x", "y"] });
    const done = await waitStatus(job_id, ["completed"]);
    expect(done.progress).toEqual({ total_items: 2, completed_items: 0, failed_items: 2, percent: 100 });
    const res = await results(job_id);
    expect(res.body.results).toEqual([null, null]);
    expect(res.body.errors.map((e) => e.index)).toEqual([0, 1]);
    expect(res.body.errors[0]).toMatchObject({ code: "http_400", message: expect.stringContaining("400") });
    expect(res.body).toMatchObject({ total_items: 2, completed_items: 0, failed_items: 2 });
  });

  it("cancels a running job; a finished one is a 404", async () => {
    const { job_id } = await submit({ model: "slow", documents: ["s1", "s2"] });
    await waitStatus(job_id, ["running"]);
    const cancelled = await call("DELETE", "/api/batch/jobs/[id]", { params: { id: job_id } });
    expect(cancelled).toEqual({ status: 200, body: { job_id, cancelled: true, message: "Job cancelled successfully" } });
    expect((await job(job_id)).body.status).toBe("cancelled");
    const again = await call<ErrorBody>("DELETE", "/api/batch/jobs/[id]", { params: { id: job_id } });
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe("not_found");

    const { job_id: doneId } = await submit({ model: "emb-small", documents: ["done"] });
    await waitStatus(doneId, ["completed"]);
    const late = await call<ErrorBody>("DELETE", "/api/batch/jobs/[id]", { params: { id: doneId } });
    expect(late.status).toBe(404);
    expect(late.body.error.message).toContain("completed");
    expect((await job(doneId)).body.status).toBe("completed");
  });

  it("an unknown job, or a batch not made through this API, is a 404", async () => {
    const other = await call<{ id: string }>("POST", "/api/batches", json({ flow: "echo", records: ["a"] }));
    expect(other.status).toBe(201);
    for (const id of ["nope", other.body.id]) {
      expect((await job(id)).status).toBe(404);
      expect((await results(id)).status).toBe(404);
      expect((await call("DELETE", "/api/batch/jobs/[id]", { params: { id } })).status).toBe(404);
    }
  });

  it("lists this API's jobs newest first with ?limit= (default 100, at most 1000) and the total", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await submit({ model: "emb-small", documents: [`list ${i}`] })).job_id);
    // finished before the next test counts completions
    for (const id of ids) await waitStatus(id, ["completed"]);
    const all = await call<{ jobs: Job[]; total: number }>("GET", "/api/batch/jobs");
    const mine = all.body.jobs.map((j) => j.job_id).filter((id) => ids.includes(id));
    expect(mine).toEqual([...ids].reverse());
    const { rows } = await getPool().query(`SELECT count(*)::int AS n FROM adapter_jobs`);
    expect(all.body.total).toBe(rows[0].n);
    expect(all.body.jobs.length).toBe(Math.min(100, all.body.total));
    expect(all.body.jobs.every((j) => j.job_type === "embed")).toBe(true);
    const two = await call<{ jobs: Job[]; total: number }>("GET", "/api/batch/jobs", { query: "limit=2" });
    expect(two.body.jobs.map((j) => j.job_id)).toEqual([ids[2], ids[1]]);
    expect(two.body.total).toBe(all.body.total);
    for (const limit of ["0", "1001", "x"]) expect((await call("GET", "/api/batch/jobs", { query: `limit=${limit}` })).status).toBe(422);
  });
});

describe("expiry and stats", () => {
  it("a job expires an hour after it finished: 404 at once, deleted by the retention sweep, still counted in the stats", async () => {
    const statsBefore = (await call<{ batch_jobs: Record<string, number> }>("GET", "/api/stats")).body.batch_jobs;
    const { job_id } = await submit({ model: "emb-small", documents: ["old"] });
    await waitStatus(job_id, ["completed"]);
    const kept = await submit({ model: "emb-small", documents: ["recent"] });
    await waitStatus(kept.job_id, ["completed"]);
    await getPool().query(`UPDATE batches SET completed_at = now() - interval '3601 seconds' WHERE id = $1`, [job_id]);
    await getPool().query(`UPDATE batches SET completed_at = now() - interval '3500 seconds' WHERE id = $1`, [kept.job_id]);

    expect((await job(job_id)).status).toBe(404);
    expect((await results(job_id)).status).toBe(404);
    expect((await call<{ jobs: Job[] }>("GET", "/api/batch/jobs")).body.jobs.map((j) => j.job_id)).not.toContain(job_id);
    expect((await job(kept.job_id)).status).toBe(200);

    // the batch's own ttl governs, whatever the retention days say
    await sweepRetention(30);
    const left = await getPool().query(`SELECT id FROM batches WHERE id = ANY($1::text[])`, [[job_id, kept.job_id]]);
    expect(left.rows.map((r) => r.id)).toEqual([kept.job_id]);
    expect((await getPool().query(`SELECT count(*)::int AS n FROM datasets WHERE name = $1`, [`inline:${job_id}`])).rows[0].n).toBe(0);

    const stats = (await call<{ batch_jobs: Record<string, number> }>("GET", "/api/stats")).body.batch_jobs;
    expect(stats.total_jobs_created).toBe(statsBefore.total_jobs_created! + 2);
    expect(stats.total_jobs_completed).toBe(statsBefore.total_jobs_completed! + 2);
    expect(Object.keys(stats).sort()).toEqual(
      ["active_jobs", "pending_jobs", "total_jobs_cancelled", "total_jobs_completed", "total_jobs_created", "total_jobs_failed"].sort(),
    );
  });

  it("counts running and pending jobs", async () => {
    const { job_id } = await submit({ model: "slow", documents: ["stat-slow"] });
    await waitStatus(job_id, ["running"]);
    const stats = (await call<{ batch_jobs: Record<string, number> }>("GET", "/api/stats")).body.batch_jobs;
    expect(stats.active_jobs).toBeGreaterThanOrEqual(1);
    const { rows } = await getPool().query(
      `SELECT count(*) FILTER (WHERE b.status = 'running')::int AS running, count(*) FILTER (WHERE b.status = 'pending')::int AS pending
       FROM adapter_jobs a JOIN batches b ON b.id = a.batch_id`,
    );
    expect({ active: stats.active_jobs, pending: stats.pending_jobs }).toEqual({ active: rows[0].running, pending: rows[0].pending });
    await call("DELETE", "/api/batch/jobs/[id]", { params: { id: job_id } });
  });
});

describe("ttl_seconds on POST /api/batches", () => {
  it("is kept with the batch, and the sweep deletes the batch that long after it finished even with retention off", async () => {
    const created = await call<{ id: string; options: { ttl_seconds: number | null } }>("POST", "/api/batches", json({ flow: "echo", records: ["a"], ttl_seconds: 120 }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.options.ttl_seconds).toBe(120);
    const plain = await call<{ id: string; options: { ttl_seconds: number | null } }>("POST", "/api/batches", json({ flow: "echo", records: ["b"] }));
    expect(plain.body.options.ttl_seconds).toBeNull();
    for (const id of [created.body.id, plain.body.id]) {
      await waitFor(`batch ${id} to complete`, async () => (await getBatch(id)).status === "completed");
      await getPool().query(`UPDATE batches SET completed_at = now() - interval '119 seconds' WHERE id = $1`, [id]);
    }
    expect(await sweepRetention(0)).toBe(0);
    await getPool().query(`UPDATE batches SET completed_at = now() - interval '121 seconds' WHERE id = ANY($1::text[])`, [[created.body.id, plain.body.id]]);
    expect(await sweepRetention(0)).toBe(1);
    await expect(getBatch(created.body.id)).rejects.toMatchObject({ code: "not_found" });
    expect((await getBatch(plain.body.id)).status).toBe("completed");
  });

  it("is an integer from 1 to a year", async () => {
    for (const ttl of [0, -1, 1.5, 31_536_001, "60"]) {
      const res = await call<ErrorBody>("POST", "/api/batches", json({ flow: "echo", records: ["a"], ttl_seconds: ttl }));
      expect(res.status, String(ttl)).toBe(422);
      expect(res.body.error.details.map((d) => d.path)).toContain("ttl_seconds");
    }
  });
});
