// A chunked batch's jobs are leased through their call's row (batch_calls.lease_expires_at): the
// heartbeat renews one row per call, not one per job, and reports which calls are still held whole
// (or, for a call that counts otherwise, which of its jobs); the lease sweep takes the call's lease
// for a job in a call. A worker that dies mid-call has exactly its call's still-running jobs put back
// once the call's lease lapses, not before; its late outcomes change nothing.
import { describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { claimJobs, type ClaimedJob } from "@/lib/engine/claim";
import { runCycle, type Outcome } from "@/lib/engine/cycle";
import { cancelJob } from "@/lib/engine/jobs";
import { cancelBatch, createBatch } from "@/lib/engine";
import { expireLeases } from "@/lib/engine/maintenance";
import { callKey, renewLeases, type HeldCall } from "@/lib/engine/workers";
import { useTestDatabase } from "../helpers/db";
import { registerTestFlows } from "./fixtures/flows";
import { expectCountersExact, lapseLeasesOf, makeChunkedBatch, registerClaimer } from "./helpers";

useTestDatabase();
registerTestFlows();


const done = (j: ClaimedJob, o: Partial<Outcome> = {}): Outcome => ({
  id: j.id, attempts: j.attempts, interruptions: j.interruptions, status: "succeeded", result: "1", cost: 0, logs: null, delayMs: 0, durationMs: 1, ...o,
});

/** The claimed jobs per call, by call number. */
function byCall(jobs: readonly ClaimedJob[]): ClaimedJob[][] {
  const by = new Map<number, ClaimedJob[]>();
  for (const j of jobs) by.set(j.call!, [...(by.get(j.call!) ?? []), j]);
  return [...by.entries()].sort(([a], [b]) => a - b).map(([, js]) => js);
}

const heldCall = (js: readonly ClaimedJob[], jobs = js.length): HeldCall => ({ batchId: js[0]!.batch_id, callId: js[0]!.call!, jobs });
const counts = { running: 0, processed: 0, failed: 0 };

/** Each job row's version (xmin) and lease: a row the heartbeat updated has a new version. */
async function jobRows(ids: readonly number[]) {
  const { rows } = await getPool().query<{ id: string; xmin: string; lease: Date | null }>(
    `SELECT id, xmin::text, lease_expires_at AS lease FROM jobs WHERE id = ANY($1::bigint[]) ORDER BY id`,
    [ids],
  );
  return rows;
}

async function callLeases(batchId: string) {
  const { rows } = await getPool().query<{ call_id: number; lease: Date | null }>(
    `SELECT call_id, lease_expires_at AS lease FROM batch_calls WHERE batch_id = $1 ORDER BY call_id`,
    [batchId],
  );
  return rows;
}

describe("a chunked batch's leases, through its calls", () => {
  it("the claim leases each call; the heartbeat renews the call rows and leaves every job row as it is, whatever chunk_size", async () => {
    for (const chunkSize of [10, 100]) {
      const b = await makeChunkedBatch(2 * chunkSize, { chunk_size: chunkSize, concurrency: 2 });
      const w = await registerClaimer(30_000);
      const calls = byCall(await claimJobs(w, 2, 30_000));
      expect(calls.map((c) => c.length)).toEqual([chunkSize, chunkSize]);
      const claimedLeases = await callLeases(b.id);
      expect(claimedLeases.every((c) => c.lease !== null && c.lease.getTime() > Date.now() + 20_000)).toBe(true);
      const ids = calls.flat().map((j) => j.id);
      const before = await jobRows(ids);
      const held = await renewLeases(w, [], calls.map((c) => heldCall(c)), 60_000, counts);
      // both calls held whole: no job id sent, none returned
      expect([...held.whole].sort()).toEqual(calls.map((c) => callKey(b.id, c[0]!.call!)).sort());
      expect(held.jobs.size).toBe(0);
      // no job row written (a new xmin would say it was): the cost of the beat is per call
      expect(await jobRows(ids)).toEqual(before);
      const renewed = await callLeases(b.id);
      expect(renewed.every((c) => c.lease!.getTime() > Date.now() + 50_000)).toBe(true);
      await cancelBatch(b.id);
    }
  });

  it("a call that counts otherwise comes back with its jobs still held; a call gone or no longer the worker's does not come back", async () => {
    const b = await makeChunkedBatch(30, { chunk_size: 10, concurrency: 3 });
    const w = await registerClaimer(30_000);
    const [a, c, d] = byCall(await claimJobs(w, 3, 30_000));
    // a record of call c cancelled alone; call d's records all cancelled (its row goes with its last)
    await cancelJob(b.id, c![3]!.record_id);
    for (const j of d!) await cancelJob(b.id, j.record_id);
    const held = await renewLeases(w, [], [heldCall(a!), heldCall(c!), heldCall(d!)], 30_000, counts);
    expect([...held.whole]).toEqual([callKey(b.id, a![0]!.call!)]);
    expect([...held.jobs].sort((x, y) => x - y)).toEqual(c!.filter((_, i) => i !== 3).map((j) => j.id).sort((x, y) => x - y));
    // the worker counts c as it is now: whole again
    const again = await renewLeases(w, [], [heldCall(c!, 9)], 30_000, counts);
    expect([...again.whole]).toEqual([callKey(b.id, c![0]!.call!)]);
    // another worker's heartbeat naming these calls renews nothing and holds nothing
    const other = await registerClaimer(30_000);
    const theirs = await renewLeases(other, [], [heldCall(a!), heldCall(c!, 9)], 30_000, counts);
    expect(theirs.whole.size + theirs.jobs.size).toBe(0);
    await cancelBatch(b.id);
    const gone = await renewLeases(w, [], [heldCall(a!), heldCall(c!, 9)], 30_000, counts);
    expect(gone.whole.size + gone.jobs.size).toBe(0);
  });

  it("a chunked worker killed mid-call: a live call lease keeps its jobs, however old their own leases; once it lapses the sweep puts back exactly the call's still-running jobs, once, and its late outcomes change nothing", async () => {
    const b = await makeChunkedBatch(40, { chunk_size: 10, concurrency: 2, max_retries: 2 });
    const w = await registerClaimer(200);
    const [a, c] = byCall(await claimJobs(w, 2, 200));
    // 3 of call a end, a record of call c is cancelled: 16 still run under the worker
    await runCycle(getPool(), w, a!.slice(0, 3).map((j) => done(j)), null);
    await cancelJob(b.id, c![0]!.record_id);
    const stillRunning = [...a!.slice(3), ...c!.slice(1)];
    // the claim's 200 ms lease passes; the worker beats through its calls only (a long lease), so
    // its jobs' own leases have lapsed and their calls' have not
    await new Promise((r) => setTimeout(r, 300));
    const held = await renewLeases(w, [], [heldCall(a!, 7), heldCall(c!, 9)], 60_000, counts);
    expect(held.whole.size).toBe(2);
    const rows = await jobRows(stillRunning.map((j) => j.id));
    expect(rows.every((r) => r.lease!.getTime() < Date.now())).toBe(true);
    // even with the worker's own lease lapsed (the sweep looks at it), a live call lease keeps its jobs
    await getPool().query(`UPDATE workers SET lease_until = now() - interval '1 second' WHERE id = $1`, [w]);
    expect(await expireLeases()).toBe(0);
    const running = await getPool().query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE batch_id = $1 AND status = 'running'`, [b.id]);
    expect(running.rows[0]!.n).toBe(16);
    // the worker dies: no more beats; its calls' leases lapse
    await lapseLeasesOf(w);
    let swept = 0;
    for (let round = 0; round < 10; round++) {
      const n = await expireLeases(5);
      if (n === 0) break;
      swept += n;
    }
    expect(swept).toBe(16);
    const after = await getPool().query<{ id: string; status: string; attempts: number; interruptions: number }>(
      `SELECT id, status::text, attempts, interruptions FROM jobs WHERE batch_id = $1 ORDER BY id`,
      [b.id],
    );
    const back = after.rows.filter((r) => stillRunning.some((j) => j.id === Number(r.id)));
    expect(back.every((r) => r.status === "pending" && r.attempts === 0 && r.interruptions === 1)).toBe(true);
    expect(after.rows.filter((r) => r.status === "succeeded")).toHaveLength(3);
    expect(after.rows.filter((r) => r.status === "cancelled")).toHaveLength(1);
    expect((await getPool().query(`SELECT 1 FROM batch_calls WHERE batch_id = $1 AND open_jobs > 0`, [b.id])).rowCount).toBe(0);
    // the dead worker's late outcomes: fenced, nothing changes
    const late = await runCycle(getPool(), w, stillRunning.map((j) => done(j)), null);
    expect(late.applied).toBe(0);
    expect((await getPool().query(`SELECT 1 FROM jobs WHERE batch_id = $1 AND status = 'succeeded'`, [b.id])).rowCount).toBe(3);
    // nothing more to sweep, and the records are claimable again, each once
    expect(await expireLeases()).toBe(0);
    const again = await claimJobs(await registerClaimer(30_000), 8, 30_000);
    expect(new Set(again.map((j) => j.id)).size).toBe(again.length);
    expect(stillRunning.every((j) => again.some((x) => x.id === j.id))).toBe(true);
    await expectCountersExact(b.id);
    await cancelBatch(b.id);
  });
  it("the sweep takes only the calls whose lease lapsed (a call with no lease: its jobs' own), each whole in one transaction even past the limit, and every job back once", async () => {
    const b = await makeChunkedBatch(40, { chunk_size: 10, concurrency: 3 });
    const plain = await createBatch({ flow: "t-echo", source: { kind: "records", records: [{ id: "a" }, { id: "b" }], recordIdField: "id" }, concurrency: 5 });
    const w = await registerClaimer(30_000);
    const got = await claimJobs(w, 10, 30_000);
    const [a, c, d] = byCall(got.filter((j) => j.batch_id === b.id));
    expect([a!.length, c!.length, d!.length, got.filter((j) => j.batch_id === plain.id).length]).toEqual([10, 10, 10, 2]);
    const stillRunning = async (ids: readonly number[]) =>
      (await getPool().query(`SELECT 1 FROM jobs WHERE id = ANY($1::bigint[]) AND status = 'running' AND lease_owner = $2`, [ids, w])).rowCount;
    // the worker's own lease and every job's lapsed; call a's lease live (claimed after its last beat),
    // call c's lapsed, call d with no lease of its own and 5 of its jobs' leases live
    await lapseLeasesOf(w);
    await getPool().query(`UPDATE batch_calls SET lease_expires_at = now() + interval '1 hour' WHERE batch_id = $1 AND call_id = $2`, [b.id, a![0]!.call]);
    await getPool().query(`UPDATE batch_calls SET lease_expires_at = NULL WHERE batch_id = $1 AND call_id = $2`, [b.id, d![0]!.call]);
    await getPool().query(`UPDATE jobs SET lease_expires_at = now() + interval '1 hour' WHERE id = ANY($1::bigint[])`, [d!.slice(0, 5).map((j) => j.id)]);
    // limit 3: the 2 plain jobs, then call c whole (10, past the limit); not a (live), not yet d
    expect(await expireLeases(3)).toBe(12);
    expect(await stillRunning(c!.map((j) => j.id))).toBe(0);
    expect(await stillRunning([...a!, ...d!].map((j) => j.id))).toBe(20);
    // then d: only its 5 jobs whose own lease lapsed; then nothing while a's lease and d's other jobs' are live
    expect(await expireLeases(3)).toBe(5);
    expect(await stillRunning(d!.slice(0, 5).map((j) => j.id))).toBe(5);
    expect(await expireLeases(3)).toBe(0);
    expect(await stillRunning(a!.map((j) => j.id))).toBe(10);
    // everything lapses: a whole, then the rest of d
    await lapseLeasesOf(w);
    expect(await expireLeases(3)).toBe(10);
    expect(await expireLeases(3)).toBe(5);
    expect(await expireLeases(3)).toBe(0);
    const after = await getPool().query<{ status: string; attempts: number; interruptions: number }>(
      `SELECT status::text, attempts, interruptions FROM jobs WHERE id = ANY($1::bigint[])`,
      [got.map((j) => j.id)],
    );
    expect(after.rows).toHaveLength(32);
    expect(after.rows.every((r) => r.status === "pending" && r.attempts === 0 && r.interruptions === 1)).toBe(true);
    expect((await getPool().query(`SELECT 1 FROM batch_calls WHERE batch_id = $1 AND open_jobs > 0`, [b.id])).rowCount).toBe(0);
    await expectCountersExact(b.id);
    await expectCountersExact(plain.id);
    await cancelBatch(b.id);
    await cancelBatch(plain.id);
  });
});
