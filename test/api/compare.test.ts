// Comparing two batches record by record: verdicts, agreement, the confusion matrix, number
// differences, pages by record id with filters, the JSONL/CSV export, and the refusals.
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { useTestDatabase } from "../helpers/db";
import { api, createBatch, finished } from "../security/api";

process.env.BATCHBOARD_AUTH = "off";
useTestDatabase();

let worker: WorkerHandle;
let a: string;
let b: string;

// echo returns each record as its result: A and B disagree on r2 and r3, r4 is only in A, r6 only in B
const A = [
  { id: "r1", label: "positive", score: 1 },
  { id: "r2", label: "negative", score: 2 },
  { id: "r3", label: "positive", score: 3 },
  { id: "r4", label: "neutral", score: 4 },
  { id: "r5", label: "neutral", score: 5 },
];
const B = [
  { id: "r1", label: "positive", score: 1.5 },
  { id: "r2", label: "positive", score: 2 },
  { id: "r3", label: "negative", score: 5 },
  { id: "r5", label: "neutral", score: 5 },
  { id: "r6", label: "positive", score: 6 },
];

beforeAll(async () => {
  worker = await startWorker({ mode: "in-process", concurrency: 4, pollMs: 50, maintenanceMs: 200, log: () => {} });
  const ca = await createBatch({ flow: "echo", records: A, name: "A" });
  const cb = await createBatch({ flow: "echo", records: B, name: "B" });
  a = ca.json.id;
  b = cb.json.id;
  await finished(a);
  await finished(b);
});
afterAll(async () => {
  await worker?.stop(1000);
});

const summary = (query: string) => api("GET", "/api/compare", { query });
const records = (query: string) => api("GET", "/api/compare/records", { query });

describe("GET /api/compare", () => {
  it("counts each verdict, the agreement and the label matrix of a text field", async () => {
    const res = await summary(`a=${a}&b=${b}&field=result.label`);
    expect(res.status).toBe(200);
    expect(res.json.field).toBe("result.label");
    expect(res.json.totals).toEqual({ same: 2, different: 2, only_a: 1, only_b: 1 });
    expect(res.json.agreement).toBe(0.5);
    expect(res.json.matrix).toEqual(
      expect.arrayContaining([
        { a: "positive", b: "positive", count: 1 },
        { a: "negative", b: "positive", count: 1 },
        { a: "positive", b: "negative", count: 1 },
        { a: "neutral", b: "neutral", count: 1 },
      ]),
    );
    expect(res.json.matrix).toHaveLength(4);
    expect(res.json.difference).toBeNull();
    expect(res.json.a).toMatchObject({ id: a, name: "A", flow: "echo", status: "completed", total: 5, succeeded: 5, failed: 0 });
    expect(res.json.b).toMatchObject({ id: b, total: 5, succeeded: 5 });
  });

  it("gives the distribution of B minus A for a number field", async () => {
    const res = await summary(`a=${a}&b=${b}&field=result.score`);
    expect(res.status).toBe(200);
    expect(res.json.totals).toEqual({ same: 2, different: 2, only_a: 1, only_b: 1 });
    expect(res.json.matrix).toBeNull();
    // r1 +0.5, r2 0, r3 +2, r5 0
    const d = res.json.difference;
    expect(d).toMatchObject({ count: 4, mean: 0.625, min: 0, max: 2, p50: 0.25 });
    expect(d.p95).toBeCloseTo(1.775, 6);
    expect(d.histogram).toHaveLength(10);
    expect(d.histogram.reduce((n: number, h: { count: number }) => n + h.count, 0)).toBe(4);
    expect(d.histogram[0]).toEqual({ from: 0, to: 0.2, count: 2 });
    expect(d.histogram[9]).toMatchObject({ to: 2, count: 1 });
  });

  it("compares whole results when no field is named", async () => {
    const res = await summary(`a=${a}&b=${b}`);
    expect(res.json.field).toBe("result");
    // only r5 is identical in full
    expect(res.json.totals).toEqual({ same: 1, different: 3, only_a: 1, only_b: 1 });
  });

  it("refuses a field no result has, a malformed field, a missing batch, with the one error body", async () => {
    const unknown = await summary(`a=${a}&b=${b}&field=result.lable`);
    expect(unknown.status).toBe(422);
    expect(unknown.json.error.details).toEqual([expect.objectContaining({ path: "field" })]);
    expect(unknown.json.error.message).toContain("result.lable");

    for (const field of ["label", "result..x", "result.", "results.label"]) {
      const bad = await summary(`a=${a}&b=${b}&field=${encodeURIComponent(field)}`);
      expect(bad.status, field).toBe(422);
      expect(bad.json.error.code).toBe("validation_failed");
    }
    const missing = await summary(`a=${a}&b=b_nope`);
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe("not_found");
    const noB = await summary(`a=${a}`);
    expect(noB.status).toBe(422);
    expect(noB.json.error.details).toEqual([expect.objectContaining({ path: "b" })]);
  });
});

describe("GET /api/compare/records", () => {
  it("pages through every record by id with both values and the record's data", async () => {
    const first = await records(`a=${a}&b=${b}&field=result.label&limit=4`);
    expect(first.status).toBe(200);
    expect(first.json.total).toBe(6);
    expect(first.json.items.map((r: { record_id: string }) => r.record_id)).toEqual(["r1", "r2", "r3", "r4"]);
    expect(first.json.items[1]).toEqual({
      record_id: "r2",
      verdict: "different",
      a: { status: "succeeded", value: "negative", result: A[1] },
      b: { status: "succeeded", value: "positive", result: B[1] },
      data: A[1],
    });
    expect(first.json.items[3]).toMatchObject({ record_id: "r4", verdict: "only_a", b: null });
    const second = await records(`a=${a}&b=${b}&field=result.label&limit=4&cursor=${first.json.next_cursor}`);
    expect(second.json.items.map((r: { record_id: string }) => r.record_id)).toEqual(["r5", "r6"]);
    expect(second.json.items[1]).toMatchObject({ verdict: "only_b", a: null, data: B[4] });
    expect(second.json.next_cursor).toBeNull();
    expect(second.json.total).toBe(6);
  });

  it("filters by verdict and by a cell of the matrix", async () => {
    const differ = await records(`a=${a}&b=${b}&field=result.label&verdict=different,only_b`);
    expect(differ.json.items.map((r: { record_id: string }) => r.record_id)).toEqual(["r2", "r3", "r6"]);
    expect(differ.json.total).toBe(3);
    const cell = await records(`a=${a}&b=${b}&field=result.label&a_value=${encodeURIComponent('"negative"')}&b_value=${encodeURIComponent('"positive"')}`);
    expect(cell.json.items.map((r: { record_id: string }) => r.record_id)).toEqual(["r2"]);
    const bad = await records(`a=${a}&b=${b}&a_value=negative`);
    expect(bad.status).toBe(422);
    expect(bad.json.error.details).toEqual([expect.objectContaining({ path: "a_value" })]);
    const badVerdict = await records(`a=${a}&b=${b}&verdict=maybe`);
    expect(badVerdict.status).toBe(422);
  });

  it("exports the whole comparison as JSONL and as CSV", async () => {
    const jsonl = await records(`a=${a}&b=${b}&field=result.label&format=jsonl`);
    expect(jsonl.status).toBe(200);
    const lines = jsonl.text.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => `${l.record_id}:${l.verdict}`)).toEqual(["r1:same", "r2:different", "r3:different", "r4:only_a", "r5:same", "r6:only_b"]);

    const csv = await records(`a=${a}&b=${b}&field=result.label&format=csv&verdict=different`);
    const rows = parse(csv.text, { columns: true }) as Record<string, string>[];
    expect(rows).toEqual([
      { record_id: "r2", verdict: "different", a_status: "succeeded", a_value: '"negative"', b_status: "succeeded", b_value: '"positive"', record: JSON.stringify(A[1]) },
      { record_id: "r3", verdict: "different", a_status: "succeeded", a_value: '"positive"', b_status: "succeeded", b_value: '"negative"', record: JSON.stringify(A[2]) },
    ]);
  });
});
