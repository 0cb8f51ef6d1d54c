// Creating batches (sources, id rules, seeded shuffle, caps, limits) and reading them back
// (lists with keyset cursors, jobs, results in source order, metrics), against real PostgreSQL.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { createBatch, getBatch, getBatchMetrics, getJob, listBatches, listJobs, streamResults } from "@/lib/engine";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { writeDatasetRecords } from "@/lib/datasets/write-records";
import { AppError } from "@/lib/errors";
import { registerFlow } from "@/lib/flows/registry";
import { defineFlow } from "@/lib/flows/types";
import { z } from "zod";
// not a React hook: the name only says it hooks into beforeAll/afterAll
import { useTestDatabase as withTestDatabase } from "../helpers/db";
import { registerTestFlows } from "./fixtures/flows";
import { expectCountersExact, waitFor } from "./helpers";

withTestDatabase();
registerTestFlows();

async function expectAppError(p: Promise<unknown>, code: string, path?: string) {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe(code);
  if (path) expect((err as AppError).details.map((d) => d.path)).toContain(path);
  return err as AppError;
}

async function makeDataset(name: string, n: number) {
  const client = await getPool().connect();
  try {
    await client.query("BEGIN");
    const id = `ds_${name}`;
    await client.query(`INSERT INTO datasets (id, name, record_count) VALUES ($1, $2, $3)`, [id, name, n]);
    await writeDatasetRecords(
      client,
      id,
      (function* () {
        for (let i = 0; i < n; i++) yield { recordId: `r${i}`, data: { i, text: i % 2 ? "odd apple" : "even pear" } };
      })(),
    );
    await client.query("COMMIT");
    return id;
  } finally {
    client.release();
  }
}

describe("createBatch", () => {
  it("stores inline records as an inline dataset with ids from the id field or the position", async () => {
    const b = await createBatch({
      flow: "t-echo",
      source: { kind: "records", records: [{ key: "a", v: 1 }, { key: 7, v: 2 }], recordIdField: "key" },
      shuffle: false,
    });
    expect(b).toMatchObject({ total: 2, pending: 2 });
    const ds = await getPool().query(`SELECT name, kind, record_count FROM datasets WHERE id = $1`, [b.datasetId]);
    expect(ds.rows[0]).toEqual({ name: `inline:${b.id}`, kind: "inline", record_count: 2 });
    const jobs = await listJobs(b.id, { limit: 10 });
    expect(jobs.items.map((j) => [j.recordId, j.ordinal, j.position])).toEqual([
      ["a", 0, 0],
      ["7", 1, 1],
    ]);

    const strings = await createBatch({ flow: "t-echo", source: { kind: "records", records: ["x", "y", "z"], recordIdField: "id" }, shuffle: false });
    const detail = await getJob(strings.id, "2");
    expect(detail.record).toBe("y");
  });

  it("refuses bad records, options and sources with field paths", async () => {
    await expectAppError(
      createBatch({ flow: "t-echo", source: { kind: "records", records: [{ id: "a" }, { name: "no id" }], recordIdField: "id" } }),
      "validation_failed",
      "records.1.id",
    );
    await expectAppError(
      createBatch({ flow: "t-echo", source: { kind: "records", records: [{ id: "a" }, { id: "a" }], recordIdField: "id" } }),
      "validation_failed",
      "records.1",
    );
    const repeated = await expectAppError(
      createBatch({ flow: "t-echo", source: { kind: "records", records: ["x", { id: 2 }, { id: "b" }, { id: "2" }], recordIdField: "id" } }),
      "validation_failed",
      "records.3",
    );
    expect(repeated.details[0]!.message).toBe('duplicate record id "2" (first seen at records.1)');
    await expectAppError(
      createBatch({ flow: "t-echo", source: { kind: "records", records: ["a"], recordIdField: "id" }, concurrency: 1001 }),
      "validation_failed",
      "concurrency",
    );
    await expectAppError(
      createBatch({ flow: "t-echo", source: { kind: "records", records: ["a"], recordIdField: "id" }, parameters: { delay_ms: "x" } }),
      "validation_failed",
      "parameters.delay_ms",
    );
    await expectAppError(createBatch({ flow: "nope", source: { kind: "flow_default" } }), "not_found");
    await expectAppError(createBatch({ flow: "t-echo", source: { kind: "flow_default" } }), "validation_failed");
    await expectAppError(createBatch({ flow: "echo", source: { kind: "flow_default" } }), "validation_failed", "flow");
    await expectAppError(createBatch({ flow: "t-echo", source: { kind: "dataset", dataset: "missing" } }), "not_found");
    // nothing half-created
    const { rows } = await getPool().query(`SELECT count(*)::int AS n FROM batches WHERE flow = 'echo' OR concurrency = 1001`);
    expect(rows[0].n).toBe(0);
  });

  it("uses the flow's default dataset, refuses more records than the limit", async () => {
    registerFlow(
      defineFlow({ name: "t-default", description: "", parameters: z.object({}), defaultDataset: "defaults", run: async (r) => r.data }) as never,
    );
    await makeDataset("defaults", 5);
    const b = await createBatch({ flow: "t-default", source: { kind: "flow_default" } });
    expect(b.total).toBe(5);
    process.env.BATCHBOARD_MAX_RECORDS_PER_BATCH = "3";
    try {
      await expect(createBatch({ flow: "t-default", source: { kind: "dataset", dataset: "defaults" } })).rejects.toMatchObject({
        code: "limit_exceeded",
      });
      const capped = await createBatch({ flow: "t-default", source: { kind: "dataset", dataset: "defaults" }, max_records: 3 });
      expect(capped.total).toBe(3);
    } finally {
      delete process.env.BATCHBOARD_MAX_RECORDS_PER_BATCH;
    }
  });

  it("shuffles reproducibly by seed, caps at max_records, and dry-runs 10 records", async () => {
    await makeDataset("hundred", 100);
    const order = async (seed: string, extra: object = {}) => {
      const b = await createBatch({ flow: "t-echo", source: { kind: "dataset", dataset: "hundred" }, seed, ...extra });
      const jobs = await listJobs(b.id, { limit: 1000 });
      return { b, ids: jobs.items.map((j) => j.recordId), positions: jobs.items.map((j) => j.position) };
    };
    const a = await order("s1");
    const a2 = await order("s1");
    const c = await order("s2");
    expect(a.b.seed).toBe("s1");
    expect(a.ids).toEqual(a2.ids);
    // and across versions: the run order is ascending md5("<seed>:<position>") in hex, then position
    const md5 = (p: number) => createHash("md5").update(`s1:${p}`).digest("hex");
    const byDigest = Array.from({ length: 100 }, (_, p) => p).sort((x, y) => (md5(x) < md5(y) ? -1 : md5(x) > md5(y) ? 1 : x - y));
    expect(a.positions).toEqual(byDigest);
    // inline records are ordered in Node (lib/engine/run-order.ts), datasets in SQL: the same order
    const records = Array.from({ length: 100 }, (_, i) => ({ id: `r${i}` }));
    const inlineOrder = async (seed: string, extra: object = {}) => {
      const b = await createBatch({ flow: "t-echo", source: { kind: "records", records, recordIdField: "id" }, seed, ...extra });
      return (await listJobs(b.id, { limit: 1000 })).items.map((j) => [j.ordinal, j.position, j.recordId]);
    };
    const datasetOrder = async (seed: string, extra: object = {}) => {
      const b = await createBatch({ flow: "t-echo", source: { kind: "dataset", dataset: "hundred" }, seed, ...extra });
      return (await listJobs(b.id, { limit: 1000 })).items.map((j) => [j.ordinal, j.position, j.recordId]);
    };
    for (const [seed, extra] of [["s1", {}], ["s2", {}], ["ü 😀 ' \\", {}], ["s1", { max_records: 7 }], ["s1", { dry_run: true }], ["s1", { shuffle: false, max_records: 50 }]] as const) {
      const inline = await inlineOrder(seed, extra);
      expect(inline, `${seed} ${JSON.stringify(extra)}`).toEqual(await datasetOrder(seed, extra));
      expect(inline.length).toBe("max_records" in extra ? extra.max_records : "dry_run" in extra ? 10 : 100);
    }
    expect(a.ids).not.toEqual(c.ids);
    expect([...a.ids].sort()).toEqual([...c.ids].sort());
    expect(a.ids).not.toEqual([...a.ids].sort((x, y) => Number(x.slice(1)) - Number(y.slice(1))));
    const capped = await order("s1", { max_records: 7 });
    expect(capped.ids).toEqual(a.ids.slice(0, 7));
    const dry = await order("s1", { dry_run: true });
    expect(dry.ids).toEqual(a.ids.slice(0, 10));
    const generated = await createBatch({ flow: "t-echo", source: { kind: "dataset", dataset: "hundred" } });
    expect(generated.seed).toMatch(/.+/);
  });

  it("creates 100,000 jobs with one set-based insert", async () => {
    let t = Date.now();
    await makeDataset("big", 100_000);
    console.log(`dataset: ${Date.now() - t} ms`);
    t = Date.now();
    const b = await createBatch({ flow: "t-echo", source: { kind: "dataset", dataset: "big" } });
    console.log(`createBatch: ${Date.now() - t} ms`);
    t = Date.now();
    expect(b).toMatchObject({ total: 100_000, pending: 100_000 });
    await expectCountersExact(b.id);
    // keyset pages walk the whole batch without gaps or repeats
    const first = await listJobs(b.id, { limit: 1000 });
    const second = await listJobs(b.id, { limit: 1000, cursor: first.nextCursor });
    expect(first.total).toBe(100_000);
    expect(second.items[0]!.ordinal).toBe(1000);
    const byStatus = await listJobs(b.id, { limit: 5, status: ["pending"] });
    expect(byStatus.total).toBe(100_000);
    const search = await listJobs(b.id, { limit: 5, q: "r9999" });
    expect(search.items).toHaveLength(5);
    for (const j of search.items) expect(j.recordId.startsWith("r9999")).toBe(true);
    expect(search.total).toBe(11);
    console.log(`reads: ${Date.now() - t} ms`);
  });
});

describe("reading batches", () => {
  let worker: WorkerHandle;
  beforeAll(async () => {
    worker = await startWorker({ mode: "in-process", concurrency: 8, leaseMs: 1000, log: () => {} });
  });
  afterAll(async () => {
    await worker.stop(1000);
  });

  it("lists newest first with a keyset cursor and filters", async () => {
    const made = [];
    for (let i = 0; i < 5; i++) {
      made.push(
        await createBatch({
          flow: "t-echo",
          name: `list-${i}`,
          metadata: { team: i % 2 ? "blue" : "green" },
          source: { kind: "records", records: ["a"], recordIdField: "id" },
        }),
      );
    }
    const page1 = await listBatches({ q: "list-", limit: 2 });
    const page2 = await listBatches({ q: "list-", limit: 2, cursor: page1.nextCursor });
    const page3 = await listBatches({ q: "list-", limit: 2, cursor: page2.nextCursor });
    expect([...page1.items, ...page2.items, ...page3.items].map((b) => b.name)).toEqual(["list-4", "list-3", "list-2", "list-1", "list-0"]);
    expect(page1.total).toBe(5);
    expect(page3.nextCursor).toBeNull();
    const blue = await listBatches({ q: "blue", limit: 10 });
    expect(blue.items.map((b) => b.name).sort()).toEqual(["list-1", "list-3"]);
    await expectAppError(listBatches({ limit: 2, cursor: "garbage" }), "validation_failed", "cursor");
    await expectAppError(getBatch("batch_missing"), "not_found");
  });

  it("runs a batch to completion; results stream in source order; metrics and detail add up", async () => {
    const records = Array.from({ length: 50 }, (_, i) => ({ id: `k${i}`, n: i }));
    const b = await createBatch({ flow: "t-echo", source: { kind: "records", records, recordIdField: "id" }, concurrency: 10 });
    const done = await waitFor("batch completed", async () => {
      const x = await getBatch(b.id);
      return x.status === "completed" && x;
    });
    expect(done).toMatchObject({ total: 50, succeeded: 50, pending: 0, running: 0 });
    expect(done.startedAt).not.toBeNull();
    expect(done.completedAt).not.toBeNull();
    await expectCountersExact(b.id);
    const rows = [];
    for await (const r of streamResults(b.id)) rows.push(r);
    expect(rows.map((r) => r.recordId)).toEqual(records.map((r) => r.id));
    expect(rows[3]!.result).toEqual({ id: "k3", data: { id: "k3", n: 3 } });
    const finished = await listJobs(b.id, { sort: "finished", limit: 20 });
    expect(finished.items).toHaveLength(20);
    expect(finished.total).toBe(50); // from the counters: finished_at is set exactly for finished statuses
    expect((await listJobs(b.id, { sort: "finished", status: ["succeeded", "pending"], limit: 1 })).total).toBe(50);
    const next = await listJobs(b.id, { sort: "finished", limit: 100, cursor: finished.nextCursor });
    expect(new Set([...finished.items, ...next.items].map((j) => j.recordId)).size).toBe(50);
    const m = await getBatchMetrics(b.id, 60);
    expect(m.series.reduce((n, p) => n + p.succeeded, 0)).toBe(50);
    expect(m.series[0]!.p50Ms).not.toBeNull();
    const job = await getJob(b.id, "k7");
    expect(job).toMatchObject({ status: "succeeded", attempts: 1, record: { id: "k7", n: 7 }, result: { id: "k7", data: { id: "k7", n: 7 } } });
    await expectAppError(getJob(b.id, "nope"), "not_found");
  });
});
