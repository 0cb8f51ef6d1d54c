// The /api/batch embedding job API against the built app, each test one client example sent as a
// client of this API writes it (the same paths and bodies, Python's requests translated to fetch),
// with an OpenAI-compatible mock on 127.0.0.1 as the upstream (OPENAI_BASE_URL in playwright.config.ts).
import { expect, test } from "@playwright/test";
import { AUTH_PORT, E2E_ADMIN_TOKEN, OPENAI_MOCK_KEYS, OPENAI_MOCK_PORT } from "../../playwright.config";
import { startOpenAIMock, type OpenAIMock } from "../../test/support/openai-mock";
import { waitUntil } from "../fixtures";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- the examples index responses freely, as Python does

let mock: OpenAIMock;
let base: string;

test.beforeAll(async ({ baseURL }) => {
  mock = await startOpenAIMock({ port: OPENAI_MOCK_PORT, keys: { "/v1/": OPENAI_MOCK_KEYS.default, "/emb/v1/": OPENAI_MOCK_KEYS.embeddings } });
  base = baseURL!;
});
test.afterAll(async () => {
  await mock?.close();
});

/** requests.get / requests.post / requests.delete, keeping the status for raise_for_status(). */
const requests = {
  async post(url: string, options: { json: unknown }) {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(options.json) });
    return { status_code: res.status, json: async () => (await res.json()) as Json };
  },
  async get(url: string) {
    const res = await fetch(url);
    return { status_code: res.status, json: async () => (await res.json()) as Json };
  },
  async delete(url: string) {
    const res = await fetch(url, { method: "DELETE" });
    return { status_code: res.status, json: async () => (await res.json()) as Json };
  },
};
const url = (path: string) => `${base}${path}`;
const embeddingOf = (text: string) => Array.from({ length: 4 }, (_, i) => (text.length + i) / 10);

async function untilDone(jobId: string, timeoutMs = 45_000): Promise<Json> {
  return waitUntil(async () => {
    const status = await (await requests.get(url(`/api/batch/jobs/${jobId}`))).json();
    return ["completed", "failed", "cancelled"].includes(status.status) ? status : undefined;
  }, `job ${jobId} to finish`, timeoutMs);
}

test.describe("embedding jobs under /api/batch", () => {
  test("quick start: submit, check status, get results", async () => {
    // 1. Submit a Batch Job
    const response = await requests.post(url("/api/batch/embed"), {
      json: {
        model: "nomic-embed-text",
        documents: ["Document 1 content here", "Document 2 content here"],
        metadata: { source: "knowledge_base" }, // Optional
      },
    });
    expect(response.status_code).toBe(200);
    const submitted = await response.json();
    const job_id = submitted.job_id as string;
    expect(submitted).toEqual({ job_id, status: expect.stringMatching(/^(pending|running)$/), total_items: 2, message: "Batch embedding job submitted with 2 documents" });

    // 2. Check Job Status
    const status = await (await requests.get(url(`/api/batch/jobs/${job_id}`))).json();
    expect(status.progress.percent).toEqual(expect.any(Number));
    expect(`Completed: ${status.progress.completed_items}/${status.progress.total_items}`).toMatch(/^Completed: \d\/2$/);
    await untilDone(job_id);

    // 3. Get Results
    const results = await (await requests.get(url(`/api/batch/results/${job_id}`))).json();
    const embeddings = results.results;
    const errors = results.errors;
    expect(embeddings).toEqual([
      { index: 0, embedding: embeddingOf("Document 1 content here") },
      { index: 1, embedding: embeddingOf("Document 2 content here") },
    ]);
    expect(errors).toEqual([]);
    // the operator's upstream (OPENAI_BASE_URL) with its key, the document as the input
    const sent = mock.requests.filter((r) => r.body.input === "Document 1 content here");
    expect(sent).toEqual([{ path: "/v1/embeddings", authorization: `Bearer ${OPENAI_MOCK_KEYS.default}`, body: { model: "nomic-embed-text", input: "Document 1 content here" } }]);
  });

  test("the endpoint reference: status and results shapes, cancel, list", async () => {
    const { job_id } = await (await requests.post(url("/api/batch/embed"), { json: { model: "nomic-embed-text", documents: ["doc1", "doc2"], metadata: {} } })).json();
    const status = await untilDone(job_id);
    expect(status).toEqual({
      job_id,
      job_type: "embed",
      status: "completed",
      created_at: expect.any(String),
      started_at: expect.any(String),
      completed_at: expect.any(String),
      expires_at: expect.any(String),
      progress: { total_items: 2, completed_items: 2, failed_items: 0, percent: 100 },
      duration_seconds: expect.any(Number),
      metadata: { model: "nomic-embed-text" },
      errors: [],
    });
    const results = await (await requests.get(url(`/api/batch/results/${job_id}`))).json();
    expect(results).toEqual({
      job_id,
      status: "completed",
      results: [{ index: 0, embedding: embeddingOf("doc1") }, { index: 1, embedding: embeddingOf("doc2") }],
      errors: [],
      total_items: 2,
      completed_items: 2,
      failed_items: 0,
    });

    // DELETE /api/batch/jobs/{job_id}: only pending or running jobs; 404 once completed
    const slow = await (await requests.post(url("/api/batch/embed"), { json: { model: "slow", documents: ["waits"] } })).json();
    const cancelled = await requests.delete(url(`/api/batch/jobs/${slow.job_id}`));
    expect(cancelled.status_code).toBe(200);
    expect(await cancelled.json()).toEqual({ job_id: slow.job_id, cancelled: true, message: "Job cancelled successfully" });
    expect((await requests.delete(url(`/api/batch/jobs/${job_id}`))).status_code).toBe(404);

    // GET /api/batch/jobs?limit=100: most recent first
    const list = await (await requests.get(url("/api/batch/jobs?limit=100"))).json();
    expect(list.jobs.slice(0, 2).map((j: Json) => j.job_id)).toEqual([slow.job_id, job_id]);
    expect(list.jobs[0]).toMatchObject({ job_type: "embed", status: "cancelled", progress: { total_items: 1 } });
    expect(list.total).toBeGreaterThanOrEqual(2);
  });

  test("example 1: embedding a large document collection", async () => {
    test.setTimeout(240_000);
    const docs = Array.from({ length: 5000 }, (_, i) => `Document ${i} content...`);
    const response = await requests.post(url("/api/batch/embed"), {
      json: { model: "nomic-embed-text", documents: docs, metadata: { collection: "research_papers" } },
    });
    const job_id = (await response.json()).job_id as string;
    const seen: number[] = [];
    const status = await waitUntil(async () => {
      const s = await (await requests.get(url(`/api/batch/jobs/${job_id}`))).json();
      if (["completed", "failed", "cancelled"].includes(s.status)) return s;
      seen.push(s.progress.percent);
      return undefined;
    }, "the 5000-document job", 200_000);
    expect(status.status).toBe("completed");
    expect([...seen].sort((a, b) => a - b)).toEqual(seen); // progress only grows
    const results = await (await requests.get(url(`/api/batch/results/${job_id}`))).json();
    expect(results.results).toHaveLength(5000);
    expect(results.results[4321]).toEqual({ index: 4321, embedding: embeddingOf(docs[4321]!) });
    expect(status.duration_seconds).toBeGreaterThan(0);
    expect(`Embedded ${results.results.length} documents in ${status.duration_seconds.toFixed(2)}s`).toMatch(/^Embedded 5000 documents in \d+\.\d\ds$/);
  });

  test("example 3: managing multiple batch jobs", async () => {
    const document_batches = [["a1", "a2"], ["b1"], ["c1", "c2", "c3"]];
    let job_ids: string[] = [];
    for (const batch of document_batches) {
      const response = await requests.post(url("/api/batch/embed"), { json: { model: "nomic-embed-text", documents: batch } });
      job_ids.push((await response.json()).job_id);
    }
    const finished: string[] = [];
    await waitUntil(async () => {
      for (const job_id of [...job_ids]) {
        const status = await (await requests.get(url(`/api/batch/jobs/${job_id}`))).json();
        if (["completed", "failed", "cancelled"].includes(status.status)) {
          expect(status.status).toBe("completed");
          finished.push(job_id);
          job_ids = job_ids.filter((id) => id !== job_id);
        }
      }
      return job_ids.length === 0 ? true : undefined;
    }, "all jobs to finish");
    expect(finished).toHaveLength(3);
  });

  test("best practices: the 10,000-document limit, failed items, a 404 for an unknown job, metadata", async () => {
    // ❌ Bad: Submitting too many at once
    const docs = Array.from({ length: 50_000 }, (_, i) => `doc ${i}`);
    const tooMany = await requests.post(url("/api/batch/embed"), { json: { model: "nomic-embed-text", documents: docs.slice(0, 50000) } });
    expect(tooMany.status_code).toBe(400);
    expect(await tooMany.json()).toEqual({
      error: { code: "bad_request", message: "Maximum 10,000 documents per batch. Got 50,000.", details: [expect.objectContaining({ path: "documents" })] },
    });

    // ✅ Good: Check for errors (a model the upstream refuses)
    const { job_id } = await (await requests.post(url("/api/batch/embed"), { json: { model: "reject", documents: ["x", "y"] } })).json();
    await untilDone(job_id);
    const results = await (await requests.get(url(`/api/batch/results/${job_id}`))).json();
    expect(results.failed_items).toBe(2);
    expect(results.errors.map((e: Json) => e.index)).toEqual([0, 1]);

    // ✅ Good: Handle 404 (job expired)
    expect((await requests.get(url("/api/batch/jobs/batch_no-such-job"))).status_code).toBe(404);

    // ✅ Good: Store context in metadata
    const submitted = await (
      await requests.post(url("/api/batch/embed"), {
        json: { model: "nomic-embed-text", documents: ["ctx"], metadata: { collection: "research_papers", user_id: "user123", batch_num: 5, total_batches: 10 } },
      })
    ).json();
    const status = await (await requests.get(url(`/api/batch/jobs/${submitted.job_id}`))).json();
    expect(`Batch ${status.metadata.batch_num}/${status.metadata.total_batches}`).toBe("Batch 5/10");
  });

  test("statistics: batch_jobs in /api/stats", async () => {
    const stats = await (await requests.get(url("/api/stats"))).json();
    const batch_stats = stats.batch_jobs;
    expect(batch_stats.total_jobs_created).toBeGreaterThanOrEqual(1);
    for (const key of ["total_jobs_completed", "total_jobs_failed", "active_jobs", "pending_jobs"]) expect(batch_stats[key], key).toEqual(expect.any(Number));
    expect(stats.batches).toBeTruthy(); // the usual stats are still there
  });

  test("with authentication on, the same keys and scopes: read for GET, write to submit", async () => {
    const authBase = `http://localhost:${AUTH_PORT}`;
    const anonymous = await fetch(`${authBase}/api/batch/jobs`);
    expect(anonymous.status).toBe(401);
    const admin = { authorization: `Bearer ${E2E_ADMIN_TOKEN}`, "content-type": "application/json" };
    const readKey = (await (await fetch(`${authBase}/api/keys`, { method: "POST", headers: admin, body: JSON.stringify({ name: "embed-read", scopes: ["read"] }) })).json()) as Json;
    const reader = { authorization: `Bearer ${readKey.key}`, "content-type": "application/json" };
    expect((await fetch(`${authBase}/api/batch/jobs`, { headers: reader })).status).toBe(200);
    const refused = await fetch(`${authBase}/api/batch/embed`, { method: "POST", headers: reader, body: JSON.stringify({ model: "m", documents: ["x"] }) });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as Json).error.code).toBe("forbidden");
  });
});
