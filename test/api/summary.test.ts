// GET /api/batches/{id}/summary: figures computed by PostgreSQL over the stored jobs. The jobs are
// written with known statuses, attempts, costs, times and results, so every figure is asserted exactly.
import { beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { useTestDatabase } from "../helpers/db";
import { api, createBatch } from "../security/api";

process.env.BATCHBOARD_AUTH = "off";
useTestDatabase();

interface Row {
  id: string;
  status: string;
  attempts?: number;
  cost?: number;
  /** run time in ms, from a fixed start */
  ms?: number;
  result?: unknown;
  error?: string;
}

const T0 = "2026-12-01T10:00:00.000Z";

/** A batch of `rows.length` records (no worker runs it), its jobs then set to the given states. */
async function batchWith(rows: Row[], extra: Record<string, unknown> = {}): Promise<string> {
  const created = await createBatch({ flow: "echo", records: rows.map((r) => ({ id: r.id })), shuffle: false, ...extra });
  expect(created.status).toBe(201);
  const id = created.json.id as string;
  for (const r of rows) {
    const ran = r.ms !== undefined;
    await getPool().query(
      `UPDATE jobs SET status = $3::job_status, attempts = $4, cost = $5, result = $6::jsonb, error_code = $7,
              started_at = CASE WHEN $8 THEN $9::timestamptz END,
              finished_at = CASE WHEN $8 THEN $9::timestamptz + make_interval(secs => $10::float8 / 1000) END
       WHERE batch_id = $1 AND record_id = $2`,
      [id, r.id, r.status, r.attempts ?? 0, r.cost ?? 0, r.result === undefined ? null : JSON.stringify(r.result), r.error ?? null, ran, T0, r.ms ?? 0],
    );
  }
  return id;
}

const summary = (id: string, query = "") => api("GET", "/api/batches/[id]/summary", { params: { id }, query });

// 10 records: 7 succeeded, 2 failed, 1 still pending
const ROWS: Row[] = [
  { id: "a", status: "succeeded", attempts: 1, cost: 0.1, ms: 100, result: { label: "positive", score: 1 } },
  { id: "b", status: "succeeded", attempts: 2, cost: 0.2, ms: 200, result: { label: "positive", score: 2 } },
  { id: "c", status: "succeeded", attempts: 1, cost: 0.1, ms: 300, result: { label: "negative", score: 3 } },
  { id: "d", status: "succeeded", attempts: 3, cost: 0.3, ms: 400, result: { label: "positive", score: 4 } },
  { id: "e", status: "succeeded", attempts: 1, cost: 0.1, ms: 500, result: { label: "neutral", score: 5 } },
  { id: "f", status: "succeeded", attempts: 1, cost: 0.1, ms: 600, result: { label: "negative", score: 6 } },
  { id: "g", status: "succeeded", attempts: 1, cost: 0.1, ms: 700, result: { label: "mixed" } },
  { id: "h", status: "failed", attempts: 4, cost: 0.4, ms: 800, error: "timeout" },
  { id: "i", status: "failed", attempts: 1, cost: 0, ms: 900, error: "flow_error" },
  { id: "j", status: "pending" },
];

describe("GET /api/batches/{id}/summary", () => {
  let id: string;
  beforeAll(async () => {
    id = await batchWith(ROWS);
  });

  it("counts by status, retries used, cost and duration statistics", async () => {
    const r = await summary(id);
    expect(r.status).toBe(200);
    expect(r.json.counts).toEqual({ total: 10, pending: 1, running: 0, waiting_input: 0, waiting_provider: 0, succeeded: 7, failed: 2, cancelled: 0, skipped: 0 });
    // attempts beyond the first: b 1 + d 2 + h 3
    expect(r.json.retries_used).toBe(6);
    expect(r.json.errors).toEqual([
      { code: "flow_error", count: 1 },
      { code: "timeout", count: 1 },
    ]);
    expect(r.json.cost.total).toBeCloseTo(1.4, 10);
    // 1.4 over the 9 records that ran
    expect(r.json.cost.mean_per_record).toBeCloseTo(1.4 / 9, 10);
    expect(r.json.cost.max_cost).toBeNull();
    // 100..900 ms: p50 500, p95 interpolated between 800 and 900 at 0.95 * 8 = 7.6 -> 860
    expect(r.json.duration_ms).toEqual({ count: 9, mean: 500, min: 100, max: 900, p50: 500, p95: 860 });
    expect(r.json.group_by).toEqual([]);
    expect(r.json.stats).toEqual([]);
    // the fields results have, for a picker: score is missing from one result
    expect(r.json.fields).toEqual([
      { field: "result.label", types: ["string"], count: 7 },
      { field: "result.score", types: ["number"], count: 6 },
    ]);
    // still running: no outcome yet, and so no partial success
    expect(r.json.outcome).toBeNull();
  });

  it("group_by: each value's count, the most frequent first, with the rest as other", async () => {
    const r = await summary(id, "group_by=result.label&top=2");
    expect(r.status).toBe(200);
    expect(r.json.group_by).toEqual([
      {
        field: "result.label",
        present: 7,
        missing: 0,
        distinct: 4,
        values: [
          { value: "positive", count: 3 },
          { value: "negative", count: 2 },
        ],
        other: 2,
      },
    ]);
    const all = await summary(id, "group_by=result.label");
    expect(all.json.group_by[0].values).toEqual([
      { value: "positive", count: 3 },
      { value: "negative", count: 2 },
      { value: "mixed", count: 1 },
      { value: "neutral", count: 1 },
    ]);
    expect(all.json.group_by[0].other).toBe(0);
  });

  it("stats: count, mean, min, max, p50, p95 and a histogram, missing values counted apart", async () => {
    const r = await summary(id, "stats=result.score");
    expect(r.status).toBe(200);
    // scores 1..6; p95 at 0.95 * 5 = 4.75 -> 5.75
    expect(r.json.stats).toEqual([
      {
        field: "result.score",
        count: 6,
        missing: 1,
        mean: 3.5,
        min: 1,
        max: 6,
        p50: 3.5,
        p95: 5.75,
        histogram: [1, 2, 3, 4, 5, 6].map((v) => ({ from: v, to: v + 1, count: 1 })),
      },
    ]);
  });

  it("takes several fields of each, repeated or comma-separated", async () => {
    const r = await summary(id, "group_by=result.label,result.score&stats=result.score&stats=result.score");
    expect(r.status).toBe(200);
    expect(r.json.group_by.map((g: { field: string }) => g.field)).toEqual(["result.label", "result.score"]);
    expect(r.json.group_by[1]).toMatchObject({ present: 6, missing: 1, distinct: 6 });
    expect(r.json.stats).toHaveLength(2);
  });

  it("auto: chooses the label-like field and the numeric ones from the fields it lists, as if they were named", async () => {
    const r = await summary(id, "auto=true");
    expect(r.status).toBe(200);
    const named = await summary(id, "group_by=result.label&stats=result.score");
    expect(r.json.group_by).toEqual(named.json.group_by);
    expect(r.json.stats).toEqual(named.json.stats);
    expect(r.json.group_by.map((g: { field: string }) => g.field)).toEqual(["result.label"]);
    expect(r.json.stats.map((g: { field: string }) => g.field)).toEqual(["result.score"]);
    // a list that names fields is kept; auto fills only the other
    const grouped = await summary(id, "auto=true&group_by=result.score");
    expect(grouped.json.group_by.map((g: { field: string }) => g.field)).toEqual(["result.score"]);
    expect(grouped.json.stats.map((g: { field: string }) => g.field)).toEqual(["result.score"]);
    // without auto nothing is chosen
    expect((await summary(id, "auto=false")).json.group_by).toEqual([]);
    expect((await summary(id, "auto=yes")).status).toBe(422);
    // no numeric or label-like field: nothing to choose
    const plain = await batchWith([{ id: "x", status: "succeeded", ms: 1, result: { tags: ["a"] } }]);
    const p = await summary(plain, "auto=true");
    expect(p.status).toBe(200);
    expect(p.json.group_by).toEqual([]);
    expect(p.json.stats).toEqual([]);
  });

  it("a field no result has is a 422 naming it", async () => {
    const r = await summary(id, "group_by=result.lable");
    expect(r.status).toBe(422);
    expect(r.json.error.code).toBe("validation_failed");
    expect(r.json.error.message).toContain("result.lable");
    expect(r.json.error.details[0].path).toBe("result.lable");
    const s = await summary(id, "stats=result.nothing");
    expect(s.status).toBe(422);
    expect(s.json.error.details[0].path).toBe("result.nothing");
  });

  it("stats over a field of mixed types is a 422 naming the field and a sample", async () => {
    const r = await summary(id, "stats=result.label");
    expect(r.status).toBe(422);
    expect(r.json.error.details[0]).toMatchObject({ path: "result.label", record_id: "a", sample: "positive" });
    expect(r.json.error.message).toContain("result.label");
    const mixed = await batchWith([
      { id: "x", status: "succeeded", ms: 1, result: { n: 1 } },
      { id: "y", status: "succeeded", ms: 1, result: { n: "2" } },
      { id: "z", status: "succeeded", ms: 1, result: { n: 3 } },
    ]);
    const m = await summary(mixed, "stats=result.n");
    expect(m.status).toBe(422);
    expect(m.json.error.message).toContain("1 of 3 values are not numbers");
    expect(m.json.error.details[0]).toMatchObject({ path: "result.n", record_id: "y", sample: "2" });
  });

  it("a value of null at the field counts as missing, like an absent field; a number past a double's range is a 422", async () => {
    const nulls = await batchWith([
      { id: "n1", status: "succeeded", ms: 1, result: { label: "a", n: 2 } },
      { id: "n2", status: "succeeded", ms: 1, result: { label: null, n: null } },
      { id: "n3", status: "succeeded", ms: 1, result: {} },
      { id: "n4", status: "succeeded", ms: 1, result: { label: "a", n: 4 } },
      { id: "n5", status: "succeeded", ms: 1, result: { label: "b", n: 4 } },
    ]);
    const r = await summary(nulls, "group_by=result.label&stats=result.n");
    expect(r.status).toBe(200);
    expect(r.json.group_by[0]).toEqual({ field: "result.label", present: 3, missing: 2, distinct: 2, values: [{ value: "a", count: 2 }, { value: "b", count: 1 }], other: 0 });
    expect(r.json.stats[0]).toMatchObject({ count: 3, missing: 2, mean: 10 / 3, min: 2, max: 4, p50: 4 });
    // only the top value listed: the other one counted as other, the totals still over every value
    const top1 = await summary(nulls, "group_by=result.label&top=1");
    expect(top1.json.group_by[0]).toEqual({ field: "result.label", present: 3, missing: 2, distinct: 2, values: [{ value: "a", count: 2 }], other: 1 });

    const huge = await batchWith([
      { id: "h1", status: "succeeded", ms: 1, result: { n: 1 } },
      { id: "h2", status: "succeeded", ms: 1, result: { n: 1e300 } },
    ]);
    await getPool().query(`UPDATE jobs SET result = '{"n": 1e400}'::jsonb WHERE batch_id = $1 AND record_id = 'h2'`, [huge]);
    const h = await summary(huge, "stats=result.n");
    expect(h.status).toBe(422);
    expect(h.json.error.message).toContain("result.n: holds a number too large to summarise");
  });

  it("a malformed field path is a 422 from the query schema, and never reaches SQL", async () => {
    for (const q of ["group_by=label", "group_by=result..label", "stats=result.a%20b", "group_by=result.a[0]", "stats=resultx", "top=0", "top=101"]) {
      const r = await summary(id, q);
      expect(r.status, q).toBe(422);
      expect(r.json.error.code, q).toBe("validation_failed");
    }
    // a key that would be SQL if it were interpolated is only a key that no result has
    const r = await summary(id, `group_by=${encodeURIComponent("result.x')--")}`);
    expect(r.status).toBe(422);
    expect(r.json.error.details[0].path).toBe("result.x')--");
  });

  it("404s for an unknown batch", async () => {
    const r = await summary("no-such-batch");
    expect(r.status).toBe(404);
  });
});

describe("the summary of a running and of a finished batch", () => {
  it("is live: a field asked for before any result exists is empty, not an error, and fills as records finish", async () => {
    const id = await batchWith([{ id: "p", status: "pending" }, { id: "q", status: "running" }]);
    const before = await summary(id, "group_by=result.label&stats=result.score");
    expect(before.status).toBe(200);
    expect(before.json.group_by[0]).toEqual({ field: "result.label", present: 0, missing: 0, distinct: 0, values: [], other: 0 });
    expect(before.json.stats[0]).toMatchObject({ count: 0, mean: null, histogram: [] });
    expect(before.json.duration_ms).toEqual({ count: 0, mean: null, min: null, max: null, p50: null, p95: null });
    expect(before.json.cost.mean_per_record).toBeNull();
    await getPool().query(
      `UPDATE jobs SET status = 'succeeded', result = '{"label":"yes","score":2.5}', attempts = 1 WHERE batch_id = $1 AND record_id = 'q'`,
      [id],
    );
    const after = await summary(id, "group_by=result.label&stats=result.score");
    expect(after.json.counts).toMatchObject({ pending: 1, running: 0, succeeded: 1 });
    expect(after.json.group_by[0].values).toEqual([{ value: "yes", count: 1 }]);
    expect(after.json.stats[0]).toMatchObject({ count: 1, mean: 2.5, min: 2.5, max: 2.5, p50: 2.5, p95: 2.5, histogram: [{ from: 2.5, to: 2.5, count: 1 }] });
  });

  it("reads a partial success when some failed under the error threshold, and not when the threshold stopped it", async () => {
    const rows: Row[] = [
      { id: "a", status: "succeeded", ms: 10, result: {} },
      { id: "b", status: "succeeded", ms: 10, result: {} },
      { id: "c", status: "succeeded", ms: 10, result: {} },
      { id: "d", status: "failed", ms: 10, error: "boom" },
    ];
    const id = await batchWith(rows, { error_threshold: 0.5, max_cost: 10 });
    await getPool().query("UPDATE batches SET status = 'completed', pending = 0, succeeded = 3, failed = 1 WHERE id = $1", [id]);
    const r = await summary(id);
    expect(r.json.outcome).toEqual({ kind: "some_failed", succeeded: 3, failed: 1 });
    expect(r.json.partial_success).toEqual({ succeeded: 3, failed: 1, failure_rate: 0.25, threshold: 0.5 });
    expect(r.json.cost.max_cost).toBe(10);
    await getPool().query("UPDATE batches SET status = 'failed', stop_reason = 'error_threshold' WHERE id = $1", [id]);
    expect((await summary(id)).json.partial_success).toBeNull();
  });

  it("continuous values get ten equal-width bins from min to max", async () => {
    const id = await batchWith(Array.from({ length: 21 }, (_, i) => ({ id: `v${i}`, status: "succeeded", ms: 1, result: { x: i / 2 } })));
    const r = await summary(id, "stats=result.x");
    const s = r.json.stats[0];
    expect(s).toMatchObject({ count: 21, min: 0, max: 10, mean: 5, p50: 5, p95: 9.5 });
    // 0..10 in steps of 0.5: two values per bin, the maximum folded into the last
    expect(s.histogram.map((b: { count: number }) => b.count)).toEqual([2, 2, 2, 2, 2, 2, 2, 2, 2, 3]);
    expect(s.histogram[0]).toEqual({ from: 0, to: 1, count: 2 });
    expect(s.histogram[9]).toEqual({ from: 9, to: 10, count: 3 });
  });

  it("a finished batch's summary is computed once and kept until the batch changes; a retry reopens it and the next one is computed again", async () => {
    const id = await batchWith([
      { id: "a", status: "succeeded", attempts: 1, ms: 10, result: { label: "yes" } },
      { id: "b", status: "failed", attempts: 1, ms: 10, error: "boom" },
    ]);
    await getPool().query("UPDATE batches SET status = 'completed', pending = 0, succeeded = 1, failed = 1, updated_at = now() WHERE id = $1", [id]);
    const first = await summary(id, "group_by=result.label");
    expect(first.json.group_by[0].values).toEqual([{ value: "yes", count: 1 }]);
    // a result rewritten behind the engine's back (the batch row unchanged): the kept summary is served, no scan ran
    await getPool().query(`UPDATE jobs SET result = '{"label":"no"}' WHERE batch_id = $1 AND record_id = 'a'`, [id]);
    const kept = await summary(id, "group_by=result.label");
    expect(kept.json.group_by[0].values).toEqual([{ value: "yes", count: 1 }]);
    // other options are another summary, computed from the jobs as they are
    expect((await summary(id, "group_by=result.label&top=5")).json.group_by[0].values).toEqual([{ value: "no", count: 1 }]);
    // a retry writes the batch row (reopened, counters moved): computed again
    expect((await api("POST", "/api/batches/[id]/retry", { params: { id }, body: {} })).status).toBe(200);
    const after = await summary(id, "group_by=result.label");
    expect(after.json.counts).toMatchObject({ failed: 0, pending: 1, succeeded: 1 });
    expect(after.json.group_by[0].values).toEqual([{ value: "no", count: 1 }]);
  });
});
