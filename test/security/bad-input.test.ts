// Input PostgreSQL would refuse deep inside a query (a NUL in a path segment, a forged cursor, a
// number past an integer column's range) is a 4xx with the standard error body, never a 500.
import { beforeAll, describe, expect, it } from "vitest";
import { createDatasetFromRecords } from "@/lib/datasets";
import { createBatch } from "@/lib/engine";
import { useTestDatabase } from "../helpers/db";
import { call as api, cursorOf, isErrorBody } from "./call";

process.env.BATCHBOARD_AUTH = "off";
useTestDatabase();

let batchId: string;
let datasetId: string;
beforeAll(async () => {
  batchId = (await createBatch({ flow: "echo", source: { kind: "records", records: [{ id: "r1" }], recordIdField: "id" } })).id;
  datasetId = (await createDatasetFromRecords({ name: "bad-input", records: [{ id: "a" }] })).id;
});

function expectClientError(res: { status: number; json: unknown }, label: string) {
  expect(res.status, `${label}: ${JSON.stringify(res.json)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${label}: ${JSON.stringify(res.json)}`).toBeLessThan(500);
  expect(isErrorBody(res.json), label).toBe(true);
}

describe("path segments PostgreSQL cannot store", () => {
  const cases: [string, string, Record<string, string>][] = [
    ["GET", "/api/batches/[id]", { id: "\u0000" }],
    ["DELETE", "/api/batches/[id]", { id: "a\u0000b" }],
    ["GET", "/api/batches/[id]/jobs", { id: "\u0000" }],
    ["GET", "/api/batches/[id]/jobs/[recordId]", { id: "x", recordId: "\u0000" }],
    ["POST", "/api/batches/[id]/cancel", { id: "\u0000" }],
    ["GET", "/api/datasets/[id]", { id: "\u0000" }],
    ["DELETE", "/api/datasets/[id]", { id: "\u0000" }],
    ["GET", "/api/datasets/[id]/records", { id: "demo\u0000" }],
    ["GET", "/api/prompts/[id]", { id: "\u0000" }],
    ["DELETE", "/api/keys/[id]", { id: "\u0000" }],
  ];
  for (const [method, pattern, params] of cases) {
    it(`${method} ${pattern} ${JSON.stringify(params)} is a 422 naming the segment`, async () => {
      const res = await api(method as "GET", pattern, { params });
      expectClientError(res, `${method} ${pattern}`);
      expect(res.status).toBe(422);
      expect(res.json.error.details[0].path).toMatch(/^(id|recordId)$/);
    });
  }

  it("a NUL in a query parameter is a 422 too", async () => {
    const res = await api("GET", "/api/batches", { query: "q=%00" });
    expectClientError(res, "GET /api/batches?q=%00");
    expect(res.json.error.details[0].path).toBe("q");
  });
});

describe("cursors the server never issued", () => {
  const forged = ['["x","y"]', "[null,null]", "[1e400]", "[1e400,1e400]", '["2026-01-01T00:00:00.000Z","\\u0000"]', '["+275760-09-13T00:00:00.001Z","a"]', "[-1.5]", '"x"', "{}"];
  const lists: [string, Record<string, string>, string][] = [
    ["/api/batches", {}, ""],
    ["/api/prompts", {}, ""],
    ["/api/datasets", {}, ""],
    ["/api/batches/[id]/jobs", { id: "" }, ""],
    ["/api/batches/[id]/jobs", { id: "" }, "sort=finished&"],
    ["/api/datasets/[id]/records", { id: "" }, ""],
  ];
  for (const [pattern, params, extra] of lists) {
    it(`${pattern}?${extra}cursor=… answers 422 for each forged cursor`, async () => {
      for (const text of forged) {
        const p = { ...params, ...(params.id !== undefined ? { id: pattern.startsWith("/api/datasets") ? datasetId : batchId } : {}) };
        const res = await api("GET", pattern, { params: p, query: `${extra}cursor=${cursorOf(text)}` });
        expectClientError(res, `${pattern} cursor ${text}`);
        expect(res.status, text).toBe(422);
        expect(res.json.error.details[0].path).toBe("cursor");
      }
    });
  }

  it("a cursor the server issued still pages", async () => {
    for (let i = 0; i < 3; i++) await createBatch({ flow: "echo", source: { kind: "records", records: ["a"], recordIdField: "id" } });
    const first = await api("GET", "/api/batches", { query: "limit=2" });
    expect(first.status).toBe(200);
    const second = await api("GET", "/api/batches", { query: `limit=2&cursor=${first.json.next_cursor}` });
    expect(second.status).toBe(200);
    expect(second.json.items.length).toBeGreaterThan(0);
  });
});

describe("numbers past the columns' range", () => {
  it("max_records and error_threshold.min_finished beyond a 32-bit integer are a 422 naming the field", async () => {
    for (const [body, path] of [
      [{ flow: "echo", records: ["a"], max_records: 1e15 }, "max_records"],
      [{ flow: "echo", records: ["a"], max_records: 2 ** 31 }, "max_records"],
      [{ flow: "echo", records: ["a"], error_threshold: { rate: 0.5, min_finished: 1e15 } }, "error_threshold.min_finished"],
    ] as const) {
      const res = await api("POST", "/api/batches", { body });
      expectClientError(res, JSON.stringify(body));
      expect(res.status).toBe(422);
      expect(res.json.error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
  });

  it("the largest allowed max_records still creates a batch", async () => {
    const res = await api("POST", "/api/batches", { body: { flow: "echo", records: ["a", "b"], max_records: 2 ** 31 - 1 } });
    expect(res.status).toBe(201);
    expect(res.json.progress.total).toBe(2);
  });
});
