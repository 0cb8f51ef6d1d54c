// The cycle's claim for chunked batches (no worker runs here): a chunked batch's concurrency counts
// calls of up to chunk_size jobs, so one claim of N calls takes up to N × chunk_size of its jobs; a
// non-chunked batch beside it still takes one job per call. A claimer that dies holding a chunk loses
// nothing: the lease sweep puts every job of it back.
import { describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { claimJobs } from "@/lib/engine/claim";
import { createBatch, type CreateBatchInput } from "@/lib/engine";
import { expireLeases } from "@/lib/engine/maintenance";
import { registerWorker } from "@/lib/engine/workers";
import { useTestDatabase } from "../helpers/db";
import { registerTestFlows } from "./fixtures/flows";
import { batchRow, expectCountersExact } from "./helpers";

useTestDatabase();
registerTestFlows();

const make = (n: number, extra: Partial<CreateBatchInput> = {}) =>
  createBatch({
    flow: "t-chunk",
    source: { kind: "records", records: Array.from({ length: n }, (_, i) => ({ id: `r${i}` })), recordIdField: "id" },
    shuffle: false,
    ...extra,
  });

let workers = 0;
async function claimer(leaseMs = 30_000) {
  const id = `wrk_claim_${++workers}`;
  await registerWorker({ id, host: "test", pid: 1, mode: "standalone", version: "0", concurrency: 8, leaseMs });
  return id;
}

describe("claiming a chunked batch", () => {
  it("takes chunk_size jobs per call wanted, up to concurrency calls; the rest waits for a call to end", async () => {
    const b = await make(100, { chunkSize: 10, concurrency: 3 });
    const w = await claimer();
    const first = await claimJobs(w, 2, 30_000);
    expect(first).toHaveLength(20);
    expect(first.every((j) => j.chunk_size === 10 && !j.reserved)).toBe(true);
    // 8 calls asked for, 1 call left of the batch's 3
    const second = await claimJobs(w, 8, 30_000);
    expect(second).toHaveLength(10);
    expect(await claimJobs(w, 8, 30_000)).toHaveLength(0);
    expect((await batchRow(b.id)).running).toBe(30);
    await expectCountersExact(b.id);
  });

  it("the batch's last records come as a smaller call; a one-record batch beside it still takes one job per call", async () => {
    const chunked = await make(25, { chunkSize: 10, concurrency: 5 });
    const plain = await createBatch({ flow: "t-echo", source: { kind: "records", records: [{ id: "a" }, { id: "b" }, { id: "c" }], recordIdField: "id" }, concurrency: 5 });
    const w = await claimer();
    const got = await claimJobs(w, 10, 30_000);
    const mine = got.filter((j) => j.batch_id === chunked.id);
    const theirs = got.filter((j) => j.batch_id === plain.id);
    expect(mine).toHaveLength(25);
    expect(theirs).toHaveLength(3);
    expect(theirs.every((j) => j.chunk_size === 1)).toBe(true);
    await expectCountersExact(chunked.id);
    await expectCountersExact(plain.id);
  });

  it("a claimer that dies holding a chunk loses nothing: the lease sweep puts all its jobs back, an interruption counted, no attempt", async () => {
    const b = await make(30, { chunkSize: 10, concurrency: 2 });
    const w = await claimer(200);
    const held = await claimJobs(w, 1, 200);
    expect(held).toHaveLength(10);
    // it never heartbeats: its own lease and its jobs' lapse
    await getPool().query(`UPDATE workers SET lease_until = now() - interval '1 second' WHERE id = $1`, [w]);
    await getPool().query(`UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE lease_owner = $1`, [w]);
    await expireLeases();
    const { rows } = await getPool().query<{ status: string; attempts: number; interruptions: number }>(
      `SELECT status::text, attempts, interruptions FROM jobs WHERE id = ANY($1::bigint[])`,
      [held.map((j) => j.id)],
    );
    expect(rows).toHaveLength(10);
    expect(rows.every((r) => r.status === "pending" && r.attempts === 0 && r.interruptions === 1)).toBe(true);
    await expectCountersExact(b.id);
    // they are claimable again, as a chunk
    const again = await claimJobs(await claimer(), 2, 30_000);
    expect(again).toHaveLength(20);
    expect(held.every((h) => again.some((j) => j.id === h.id))).toBe(true);
  });
});

describe("chunk_size at creation", () => {
  it("defaults to the flow's; 1 for a flow that does not chunk", async () => {
    expect((await make(1)).options.chunkSize).toBe(10);
    const plain = await createBatch({ flow: "t-echo", source: { kind: "records", records: [{ id: "a" }], recordIdField: "id" } });
    expect(plain.options.chunkSize).toBe(1);
    // one record per call is every flow's way: a clone inherits it
    const one = await createBatch({ flow: "t-echo", chunkSize: 1, source: { kind: "records", records: [{ id: "a" }], recordIdField: "id" } });
    expect(one.options.chunkSize).toBe(1);
  });

  it("above the flow's maximum, or on a flow without runChunk, is refused naming chunk_size", async () => {
    for (const input of [
      { flow: "t-chunk", chunkSize: 101 },
      { flow: "t-echo", chunkSize: 2 },
      { flow: "t-chunk", chunkSize: 0 },
    ]) {
      const err = await createBatch({ ...input, source: { kind: "records", records: [{ id: "a" }], recordIdField: "id" } }).then(
        () => null,
        (e: unknown) => e as { code: string; details: { path: string }[] },
      );
      expect(err?.code).toBe("validation_failed");
      expect(err?.details.map((d) => d.path)).toEqual(["chunk_size"]);
    }
  });
});
