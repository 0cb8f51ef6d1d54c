// No operation may hold one pooled connection while it waits for another: with every connection so
// held, each waits for a connection the others hold and the whole process stops answering. Every
// request path that writes runs here under a guard that records any such acquisition.
import { beforeAll, describe, expect, it } from "vitest";
import { withIdempotency } from "@/lib/api/idempotency";
import { ensureAdminAccess } from "@/lib/auth/bootstrap";
import { getImportPool, getPool } from "@/lib/db/client";
import { createDatasetFromRecords, deleteDataset, importDataset } from "@/lib/datasets";
import { cancelBatch, createBatch, pauseBatch, resumeBatch, retryBatch } from "@/lib/engine";
import { cancelJob, retryJob } from "@/lib/engine/jobs";
import { useTestDatabase } from "../helpers/db";
import { registerTestFlows } from "../engine/fixtures/flows";
import { guardPool, violationsOf } from "./pool-guard";

useTestDatabase();
registerTestFlows();

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, text: `record ${i}` }));
const inline = (n: number) => ({ flow: "t-echo", source: { kind: "records" as const, records: records(n), recordIdField: "id" } });

beforeAll(() => {
  guardPool(getPool(), "main pool");
  guardPool(getImportPool(), "import pool");
});

describe("no operation holds a pooled connection while it waits for another", () => {
  const cases: [string, () => Promise<unknown>][] = [
    ["a batch of inline records", () => createBatch(inline(5))],
    ["a large inline batch (records and jobs on two connections)", () => createBatch(inline(50), { parallelInlineMin: 1 })],
    ["a batch from a dataset", async () => createBatch({ flow: "t-echo", source: { kind: "dataset", dataset: (await createDatasetFromRecords({ name: `d${Date.now()}`, records: records(3) })).id } })],
    ["a create under an Idempotency-Key", () => withIdempotency("test", "key-1", { a: 1 }, async () => [201, await createBatch(inline(3))])],
    ["a replay of that key", () => withIdempotency("test", "key-1", { a: 1 }, async () => [201, await createBatch(inline(3))])],
    ["a large inline create under an Idempotency-Key", () => withIdempotency("test", "key-2", { a: 2 }, async () => [201, await createBatch(inline(50), { parallelInlineMin: 1 })])],
    ["a dataset upload", () => importDataset({ name: "upload", format: "jsonl", body: '{"id":"a"}\n{"id":"b"}\n' })],
    ["a dataset from JSON records", () => createDatasetFromRecords({ name: "json-records", records: records(3) })],
    ["deleting a dataset", () => deleteDataset("json-records")],
    ["the first start's admin key", () => ensureAdminAccess("http://localhost:1", () => {})],
  ];
  for (const [what, run] of cases) {
    it(what, async () => {
      expect(await violationsOf(run)).toEqual([]);
    });
  }

  it("batch and job actions", async () => {
    const batch = await createBatch({ ...inline(3), concurrency: 1 });
    for (const run of [
      () => pauseBatch(batch.id),
      () => resumeBatch(batch.id),
      () => cancelJob(batch.id, "r0"),
      () => retryJob(batch.id, "r0"),
      () => cancelBatch(batch.id),
      () => retryBatch(batch.id, ["cancelled"]),
    ]) {
      expect(await violationsOf(run)).toEqual([]);
    }
  });
});
