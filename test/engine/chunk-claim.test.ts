// The cycle's claim for chunked batches (no worker runs here): a chunked batch's concurrency counts
// calls of up to chunk_size jobs, so one claim of N calls takes up to N × chunk_size of its jobs; a
// non-chunked batch beside it still takes one job per call. A claimer that dies holding a chunk loses
// nothing: the lease sweep puts every job of it back.
import { describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { claimJobs, type ClaimedJob } from "@/lib/engine/claim";
import { flushOutcomes } from "@/lib/engine/complete";
import { runCycle, type Outcome } from "@/lib/engine/cycle";
import { cancelJob } from "@/lib/engine/jobs";
import { cancelBatch, createBatch } from "@/lib/engine";
import { expireLeases } from "@/lib/engine/maintenance";
import { useTestDatabase } from "../helpers/db";
import { registerTestFlows } from "./fixtures/flows";
import { batchRow, expectCountersExact, lapseLeasesOf, makeChunkedBatch, registerClaimer } from "./helpers";

useTestDatabase();
registerTestFlows();


describe("claiming a chunked batch", () => {
  it("takes chunk_size jobs per call wanted, up to concurrency calls; the rest waits for a call to end", async () => {
    const b = await makeChunkedBatch(100, { chunk_size: 10, concurrency: 3 });
    const w = await registerClaimer();
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
    const chunked = await makeChunkedBatch(25, { chunk_size: 10, concurrency: 5 });
    const plain = await createBatch({ flow: "t-echo", source: { kind: "records", records: [{ id: "a" }, { id: "b" }, { id: "c" }], recordIdField: "id" }, concurrency: 5 });
    const w = await registerClaimer();
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
    const b = await makeChunkedBatch(30, { chunk_size: 10, concurrency: 2 });
    const w = await registerClaimer(200);
    const held = await claimJobs(w, 1, 200);
    expect(held).toHaveLength(10);
    // it never heartbeats: its own lease and its jobs' lapse
    await lapseLeasesOf(w);
    await expireLeases();
    const { rows } = await getPool().query<{ status: string; attempts: number; interruptions: number }>(
      `SELECT status::text, attempts, interruptions FROM jobs WHERE id = ANY($1::bigint[])`,
      [held.map((j) => j.id)],
    );
    expect(rows).toHaveLength(10);
    expect(rows.every((r) => r.status === "pending" && r.attempts === 0 && r.interruptions === 1)).toBe(true);
    await expectCountersExact(b.id);
    // they are claimable again, as a chunk
    const again = await claimJobs(await registerClaimer(), 2, 30_000);
    expect(again).toHaveLength(20);
    expect(held.every((h) => again.some((j) => j.id === h.id))).toBe(true);
  });
});

const done = (j: ClaimedJob, o: Partial<Outcome> = {}): Outcome => ({
  id: j.id, attempts: j.attempts, interruptions: j.interruptions, status: "succeeded", result: "1", cost: 0, logs: null, delayMs: 0, durationMs: 1, ...o,
});
/**
 * The batch's open calls as recorded (batch_calls) are its jobs running in each call, exactly: a row
 * per call with a job running in it, open_jobs its count; a row at 0 (a call that ended, not yet
 * deleted) is the only other kind. How many rows are at 0.
 */
async function expectCallsExact(batchId: string): Promise<number> {
  const { rows } = await getPool().query<{ recorded: Record<string, number> | null; running: Record<string, number> | null }>(
    `SELECT (SELECT json_object_agg(call_id, open_jobs) FROM batch_calls WHERE batch_id = $1) AS recorded,
            (SELECT json_object_agg(call_id, n) FROM (SELECT call_id, count(*)::int AS n FROM jobs
               WHERE batch_id = $1 AND status = 'running' GROUP BY call_id) r) AS running`,
    [batchId],
  );
  const recorded = rows[0]!.recorded ?? {};
  expect(Object.fromEntries(Object.entries(recorded).filter(([, n]) => n !== 0))).toEqual(rows[0]!.running ?? {});
  return Object.values(recorded).filter((n) => n === 0).length;
}

/** The claimed jobs per call, in claim order of the calls. */
function calls(jobs: ClaimedJob[]): ClaimedJob[][] {
  const by = new Map<string, ClaimedJob[]>();
  for (const j of jobs) by.set(`${j.batch_id}:${j.call}`, [...(by.get(`${j.batch_id}:${j.call}`) ?? []), j]);
  return [...by.values()];
}

describe("calls in flight", () => {
  it("a call whose records mostly ended still counts as one: no call is admitted past concurrency", async () => {
    const b = await makeChunkedBatch(100, { chunk_size: 10, concurrency: 2 });
    const w = await registerClaimer();
    const a = await claimJobs(w, 1, 30_000);
    expect(calls(a).map((c) => c.length)).toEqual([10]);
    // 9 of call A end: one of its records still runs, so A is still in flight
    await runCycle(getPool(), w, a.slice(0, 9).map((j) => done(j)), null);
    const b2 = await claimJobs(w, 8, 30_000);
    expect(calls(b2).map((c) => c.length)).toEqual([10]);
    await runCycle(getPool(), w, b2.slice(0, 9).map((j) => done(j)), null);
    // two calls in flight with 2 records between them: none more (counting calls from records,
    // ceil(2 / 10) = 1, would admit a third)
    expect((await batchRow(b.id)).running).toBe(2);
    expect(await claimJobs(w, 8, 30_000)).toHaveLength(0);
    // the last record of A ends: A is over, one call is admitted
    await runCycle(getPool(), w, [done(a[9]!)], null);
    expect(calls(await claimJobs(w, 8, 30_000)).map((c) => c.length)).toEqual([10]);
    await expectCountersExact(b.id);
    await expectCallsExact(b.id);
  });

  it("a claim's calls are numbered per batch; every claimed job of a chunked batch names its call, a non-chunked one none", async () => {
    const chunked = await makeChunkedBatch(25, { chunk_size: 10, concurrency: 5 });
    const plain = await createBatch({ flow: "t-echo", source: { kind: "records", records: [{ id: "a" }, { id: "b" }], recordIdField: "id" }, concurrency: 5 });
    const got = await claimJobs(await registerClaimer(), 10, 30_000);
    const mine = got.filter((j) => j.batch_id === chunked.id);
    expect(calls(mine).map((c) => c.length)).toEqual([10, 10, 5]);
    expect(new Set(mine.map((j) => j.call)).size).toBe(3);
    expect(got.filter((j) => j.batch_id === plain.id).every((j) => j.call === null)).toBe(true);
  });

  it("retried records come back as a smaller call, counted as one; a call ends when its last record leaves running, however it leaves", async () => {
    const b = await makeChunkedBatch(30, { chunk_size: 10, concurrency: 2, max_retries: 3 });
    const w = await registerClaimer();
    const [a, c] = calls(await claimJobs(w, 2, 30_000));
    // 3 of A are retried at once, the rest of A ends: A is over, 3 records are due again
    await runCycle(getPool(), w, [...a!.slice(0, 3).map((j) => done(j, { status: "pending", result: null })), ...a!.slice(3).map((j) => done(j))], null);
    const retry = await claimJobs(w, 8, 30_000);
    // one call: the 3 retries first, then the cursor's next records up to chunk_size
    expect(calls(retry).map((x) => x.length)).toEqual([10]);
    expect(await claimJobs(w, 8, 30_000)).toHaveLength(0);
    // call C's records are cancelled one by one: C is in flight while one of them runs
    for (const j of c!.slice(0, 9)) await cancelJob(b.id, j.record_id);
    expect(await claimJobs(w, 8, 30_000)).toHaveLength(0);
    expect(await expectCallsExact(b.id)).toBe(0);
    await cancelJob(b.id, c![9]!.record_id);
    // C is over (its row gone with its last record): one call is admitted, the batch's last 3 records
    expect(await expectCallsExact(b.id)).toBe(0);
    expect(calls(await claimJobs(w, 8, 30_000)).map((x) => x.length)).toEqual([3]);
    await expectCountersExact(b.id);
    await expectCallsExact(b.id);
  });

  it("a call whose lease lapsed is over: the sweep puts its records back and frees it", async () => {
    const b = await makeChunkedBatch(40, { chunk_size: 10, concurrency: 2 });
    const w = await registerClaimer(200);
    const held = await claimJobs(w, 2, 200);
    expect(held).toHaveLength(20);
    await lapseLeasesOf(w);
    await expireLeases();
    expect(await expectCallsExact(b.id)).toBe(0);
    expect(calls(await claimJobs(await registerClaimer(), 8, 30_000)).map((x) => x.length)).toEqual([10, 10]);
    await expectCountersExact(b.id);
    await expectCallsExact(b.id);
  });
});

describe("a chunked worker that dies with calls in flight", () => {
  it("its running jobs are found through its calls, not its in_flight list: the sweep recovers every one exactly once, in rounds", async () => {
    const b = await makeChunkedBatch(60, { chunk_size: 10, concurrency: 5, max_retries: 2 });
    const plain = await createBatch({ flow: "t-echo", source: { kind: "records", records: [{ id: "a" }, { id: "b" }], recordIdField: "id" }, concurrency: 5 });
    const w = await registerClaimer(200);
    const got = await claimJobs(w, 10, 200);
    const mine = calls(got.filter((j) => j.batch_id === b.id)).sort((x, y) => x[0]!.call! - y[0]!.call!);
    const theirs = got.filter((j) => j.batch_id === plain.id);
    expect(mine.map((c) => c.length)).toEqual([10, 10, 10, 10, 10]);
    expect(theirs).toHaveLength(2);
    // the worker row lists only the non-chunked jobs; each call's row names the worker and its jobs
    const listed = await getPool().query<{ in_flight: string[] }>(`SELECT in_flight FROM workers WHERE id = $1`, [w]);
    expect(listed.rows[0]!.in_flight.map(Number).sort((x, y) => x - y)).toEqual(theirs.map((j) => j.id).sort((x, y) => x - y));
    const rows = await getPool().query<{ call_id: number; worker_id: string; job_ids: string[] }>(
      `SELECT call_id, worker_id, job_ids FROM batch_calls WHERE batch_id = $1 ORDER BY call_id`,
      [b.id],
    );
    expect(rows.rows.map((r) => ({ worker: r.worker_id, jobs: r.job_ids.map(Number) }))).toEqual(
      mine.map((c) => ({ worker: w, jobs: c.map((j) => j.id).sort((x, y) => x - y) })),
    );
    // call 0 ends whole, call 1 in part (4 succeed, 2 are retried and claimed again into a new call),
    // a record of call 2 is cancelled; the rest is still running when the worker dies
    await runCycle(getPool(), w, [...mine[0]!.map((j) => done(j)), ...mine[1]!.slice(0, 4).map((j) => done(j)),
      ...mine[1]!.slice(4, 6).map((j) => done(j, { status: "pending", result: null }))], null);
    await cancelJob(b.id, mine[2]![0]!.record_id);
    const retried = await claimJobs(w, 1, 200);
    expect(calls(retried.filter((j) => j.batch_id === b.id))).toHaveLength(1);
    expect(mine[1]!.slice(4, 6).every((r) => retried.some((j) => j.id === r.id))).toBe(true);
    const running = await getPool().query<{ id: string }>(`SELECT id FROM jobs WHERE lease_owner = $1 AND status = 'running' ORDER BY id`, [w]);
    const expected = running.rows.map((r) => Number(r.id));
    expect(expected.length).toBe(4 + 9 + 10 + 10 + retried.length + 2);
    await lapseLeasesOf(w);
    // a small limit: several sweep rounds, each taking what is left
    let swept = 0;
    for (let round = 0; round < 20; round++) {
      const n = await expireLeases(7);
      if (n === 0) break;
      swept += n;
    }
    expect(swept).toBe(expected.length);
    const after = await getPool().query<{ id: string; status: string; attempts: number; interruptions: number }>(
      `SELECT id, status::text, attempts, interruptions FROM jobs WHERE id = ANY($1::bigint[]) ORDER BY id`,
      [expected],
    );
    // each pending again with exactly one interruption: none missed, none taken twice
    expect(after.rows.filter((r) => r.status === "pending" && r.interruptions === 1)).toHaveLength(expected.length);
    expect(await expireLeases()).toBe(0);
    expect(await expectCallsExact(b.id)).toBe(0);
    const open = await getPool().query<{ n: number }>(`SELECT count(*)::int AS n FROM batch_calls WHERE worker_id = $1 AND open_jobs > 0`, [w]);
    expect(open.rows[0]!.n).toBe(0);
    await expectCountersExact(b.id);
    await expectCountersExact(plain.id);
    // out of the way of the tests after (one database)
    await cancelBatch(b.id);
    await cancelBatch(plain.id);
  });
});

describe("a chunked batch whose calls are all taken", () => {
  it("is passed over by the claim, whatever its order: a batch beside it gets the slot", async () => {
    const chunked = await makeChunkedBatch(50, { chunk_size: 10, concurrency: 2 });
    const w = await registerClaimer();
    const both = calls(await claimJobs(w, 2, 30_000));
    expect(both).toHaveLength(2);
    // each of its two calls is down to one running record: few records run, but no call is free
    await runCycle(getPool(), w, both.flatMap((c) => c.slice(1)).map((j) => done(j)), null);
    expect((await batchRow(chunked.id)).running).toBe(2);
    const plain = await createBatch({ flow: "t-echo", source: { kind: "records", records: [{ id: "a" }], recordIdField: "id" }, concurrency: 1 });
    // the chunked batch waited longest (starved): it comes first in claim order
    await getPool().query(`UPDATE batches SET last_claimed_at = now() - interval '1 hour' WHERE id = $1`, [chunked.id]);
    const got = await claimJobs(w, 1, 30_000);
    expect(got.map((j) => j.batch_id)).toEqual([plain.id]);
    await expectCountersExact(chunked.id);
  });
});

describe("calls in flight across claimers", () => {
  it("claimers racing on one batch, their calls ending in pieces, never have more than concurrency calls in flight between them", async () => {
    const b = await makeChunkedBatch(400, { chunk_size: 5, concurrency: 3, max_retries: 100 });
    const ws = [await registerClaimer(), await registerClaimer(), await registerClaimer()];
    const held = new Map<string, ClaimedJob[]>(ws.map((w) => [w, []]));
    let peak = 0;
    for (let round = 0; round < 40; round++) {
      // all claim at once: each statement's snapshot may predate the others' claims
      const got = await Promise.all(ws.map((w) => claimJobs(w, 2, 30_000)));
      ws.forEach((w, k) => held.get(w)!.push(...got[k]!));
      const { rows } = await getPool().query<{ calls: number }>(
        `SELECT count(DISTINCT call_id)::int AS calls FROM jobs WHERE batch_id = $1 AND status = 'running'`,
        [b.id],
      );
      peak = Math.max(peak, rows[0]!.calls);
      expect(rows[0]!.calls).toBeLessThanOrEqual(3);
      await expectCallsExact(b.id);
      // each ends a piece of what it holds: some records succeed, some are retried at once
      await Promise.all(
        ws.map((w) => {
          const mine = held.get(w)!;
          const ending = mine.splice(0, 1 + ((round * 7 + w.length) % 4));
          return runCycle(getPool(), w, ending.map((j, i) => done(j, i % 3 === 0 ? { status: "pending", result: null } : {})), null);
        }),
      );
    }
    expect(peak).toBe(3);
    await expectCountersExact(b.id);
    await expectCallsExact(b.id);
  });
});

describe("the open calls, one row per call", () => {
  it("count the jobs running in each: outcomes count out, a row at 0 goes at the next claim on its batch, and none is left once the batch ends", async () => {
    // a higher priority: the batches earlier tests left with records pending get no call
    const b = await makeChunkedBatch(60, { chunk_size: 10, concurrency: 3, priority: 10 });
    const w = await registerClaimer();
    const [a, c] = calls(await claimJobs(w, 3, 30_000));
    expect(await expectCallsExact(b.id)).toBe(0);
    // all of A and 4 of C end: A's row is at 0, C's at 6, D's at 10
    await runCycle(getPool(), w, [...a!, ...c!.slice(0, 4)].map((j) => done(j)), null);
    const { rows: left } = await getPool().query<{ call_id: number; open_jobs: number }>(
      `SELECT call_id, open_jobs FROM batch_calls WHERE batch_id = $1 ORDER BY call_id`,
      [b.id],
    );
    expect(left.map((r) => r.open_jobs)).toEqual([0, 6, 10]);
    expect(await expectCallsExact(b.id)).toBe(1);
    // the next claim on the batch takes A's slot and deletes its row
    const next = await claimJobs(w, 8, 30_000);
    expect(calls(next.filter((j) => j.batch_id === b.id)).map((x) => x.length)).toEqual([10]);
    expect(await expectCallsExact(b.id)).toBe(0);
    expect((await getPool().query(`SELECT 1 FROM batch_calls WHERE batch_id = $1`, [b.id])).rowCount).toBe(3);
    // the batch cancelled: every running job leaves its call, the batch ends, no row stays
    await cancelBatch(b.id);
    expect((await getPool().query(`SELECT 1 FROM batch_calls WHERE batch_id = $1`, [b.id])).rowCount).toBe(0);
    await expectCountersExact(b.id);
  });

  it("a batch that ends by its outcomes keeps no row", async () => {
    const b = await makeChunkedBatch(15, { chunk_size: 10, concurrency: 2, priority: 10 });
    const w = await registerClaimer();
    const got = await claimJobs(w, 2, 30_000);
    expect(calls(got).map((x) => x.length)).toEqual([10, 5]);
    expect((await getPool().query(`SELECT 1 FROM batch_calls WHERE batch_id = $1`, [b.id])).rowCount).toBe(2);
    // the last outcomes and the batch's finish (flushOutcomes settles it)
    await flushOutcomes(w, got.map((j) => done(j)));
    expect((await batchRow(b.id)).status).toBe("completed");
    expect((await getPool().query(`SELECT 1 FROM batch_calls WHERE batch_id = $1`, [b.id])).rowCount).toBe(0);
  });
});

describe("chunk_size at creation", () => {
  it("defaults to the flow's; 1 for a flow that does not chunk", async () => {
    expect((await makeChunkedBatch(1)).chunkSize).toBe(10);
    const plain = await createBatch({ flow: "t-echo", source: { kind: "records", records: [{ id: "a" }], recordIdField: "id" } });
    expect(plain.chunkSize).toBe(1);
    // one record per call is every flow's way: a clone inherits it
    const one = await createBatch({ flow: "t-echo", chunk_size: 1, source: { kind: "records", records: [{ id: "a" }], recordIdField: "id" } });
    expect(one.chunkSize).toBe(1);
  });

  it("above the flow's maximum, or on a flow without runChunk, is refused naming chunk_size", async () => {
    for (const input of [
      { flow: "t-chunk", chunk_size: 101 },
      { flow: "t-echo", chunk_size: 2 },
      { flow: "t-chunk", chunk_size: 0 },
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
