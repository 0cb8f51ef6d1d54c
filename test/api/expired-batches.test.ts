// A finished batch past its own ttl_seconds is gone everywhere at once, before the retention sweep
// deletes it: 404 for the batch, its jobs, results, summary, metrics, compare and actions, and left
// out of the list. No worker runs here, so nothing sweeps it meanwhile.
import { describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { useTestDatabase } from "../helpers/db";
import { api, createBatch } from "../security/api";

process.env.BATCHBOARD_AUTH = "off";
useTestDatabase();

/** A batch of two records, marked finished `ago` seconds ago with the given ttl_seconds. */
async function finishedBatch(ttlSeconds: number, ago: number): Promise<string> {
  const created = await createBatch({ flow: "echo", records: [{ id: "r1" }, { id: "r2" }], ttl_seconds: ttlSeconds });
  expect(created.status, created.text).toBe(201);
  const id = created.json.id as string;
  await getPool().query(`UPDATE jobs SET status = 'succeeded', result = '{}'::jsonb, finished_at = now() WHERE batch_id = $1`, [id]);
  await getPool().query(
    `UPDATE batches SET status = 'completed', pending = 0, succeeded = 2, started_at = now() - make_interval(secs => $2 + 1),
            completed_at = now() - make_interval(secs => $2) WHERE id = $1`,
    [id, ago],
  );
  return id;
}

describe("an expired batch", () => {
  it("answers 404 on every read and action before the sweep, while one within its ttl still answers", async () => {
    const expired = await finishedBatch(60, 120);
    const live = await finishedBatch(3600, 120);
    expect((await api("GET", "/api/batches/[id]", { params: { id: live } })).status).toBe(200);

    const reads: [string, string, Record<string, string>, string?][] = [
      ["GET", "/api/batches/[id]", { id: expired }],
      ["GET", "/api/batches/[id]/jobs", { id: expired }],
      ["GET", "/api/batches/[id]/jobs/[recordId]", { id: expired, recordId: "r1" }],
      ["GET", "/api/batches/[id]/results", { id: expired }],
      ["GET", "/api/batches/[id]/summary", { id: expired }],
      ["GET", "/api/batches/[id]/metrics", { id: expired }],
      ["GET", "/api/batches/[id]/events", { id: expired }],
      ["POST", "/api/batches/[id]/retry", { id: expired }],
      ["POST", "/api/batches/[id]/clone", { id: expired }],
      ["DELETE", "/api/batches/[id]", { id: expired }],
      ["GET", "/api/compare", {}, `a=${expired}&b=${live}`],
    ];
    for (const [method, pattern, params, query] of reads) {
      const res = await api(method as "GET", pattern, { params, query, body: method === "POST" ? {} : undefined });
      expect(res.status, `${method} ${pattern}: ${res.text.slice(0, 200)}`).toBe(404);
      expect(res.json?.error?.code, `${method} ${pattern}`).toBe("not_found");
    }

    const list = await api("GET", "/api/batches");
    const ids = (list.json.data ?? list.json.items ?? list.json.batches).map((b: { id: string }) => b.id);
    expect(ids).toContain(live);
    expect(ids).not.toContain(expired);
    // the overview counts it no more: one live batch of two succeeded jobs
    const stats = await api("GET", "/api/stats");
    expect(stats.status, stats.text).toBe(200);
    expect(stats.json.batches.completed).toBe(1);
    expect(stats.json.jobs.succeeded).toBe(2);
    // still in the table: only the sweep deletes it
    expect((await getPool().query(`SELECT 1 FROM batches WHERE id = $1`, [expired])).rowCount).toBe(1);
  });
});
