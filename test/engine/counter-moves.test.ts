// The batch counters after each kind of transition, on a real database: every path that moves jobs
// (the worker cycle's outcomes, promotions and claim; a job's or a batch's cancel, pause, a stop,
// the bulk actions, retries, the lease sweep, parked jobs woken) leaves each counter equal to a
// recount of the batch's jobs. No worker runs: each test drives the cycle by hand (runCycle) and
// then the transition under test. The counters' rule itself (batch_counter_moves) is checked last.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import {
  bulkJobs,
  cancelBatch,
  cancelJob,
  createBatch,
  getBatch,
  pauseBatch,
  resumeBatch,
  retryBatch,
  retryJob,
  type CreateBatchInput,
} from "@/lib/engine";
import { runCycle, type ClaimedJob, type Outcome } from "@/lib/engine/cycle";
import { withTx } from "@/lib/engine/db";
import { expireLeases } from "@/lib/engine/maintenance";
import { stopBatch, wakeParked } from "@/lib/engine/transitions";
import { useTestDatabase } from "../helpers/db";
import { registerTestFlows } from "./fixtures/flows";
import { batchRow, expectCountersExact, lapseLeasesOf } from "./helpers";

useTestDatabase();
registerTestFlows();

const OWNER = "mover-1";

beforeAll(async () => {
  await getPool().query(`INSERT INTO workers (id, host, pid, mode, lease_until) VALUES ($1, 'test', 0, 'standalone', now() + interval '1 hour')`, [OWNER]);
});

// each test starts with nothing runnable: what one leaves must not feed the next one's claims
afterEach(async () => {
  const { rows } = await getPool().query<{ id: string }>(`SELECT id FROM batches WHERE status IN ('pending', 'running', 'paused')`);
  for (const r of rows) await cancelBatch(r.id);
});

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, n: i }));
const make = (n: number, extra: Partial<CreateBatchInput> = {}) =>
  createBatch({ flow: "t-echo", source: { kind: "records", records: records(n), recordIdField: "id" }, shuffle: false, ...extra });

/** Claims `want` jobs of the batch in slots, plus `reserve` reservations, as worker OWNER. */
async function claim(batchId: string, want: number, reserve = 0): Promise<ClaimedJob[]> {
  const r = await runCycle(getPool(), OWNER, [], { want, leaseMs: 60_000, reserve: reserve ? new Map([[batchId, reserve]]) : undefined });
  return r.claimed;
}

const outcome = (job: ClaimedJob, status: Outcome["status"], extra: Partial<Outcome> = {}): Outcome => ({
  id: job.id,
  attempts: job.attempts,
  interruptions: job.interruptions,
  status,
  reserved: job.reserved,
  cost: 0,
  logs: null,
  delayMs: 0,
  durationMs: 5,
  ...extra,
});

const recount = async (id: string) => expectCountersExact(id);

describe("the counters equal a recount of the jobs", () => {
  it("after the cycle: outcomes of every kind, from running and from reserved, promotions, the claim", async () => {
    const b = await make(12, { concurrency: 4, max_retries: 3 });
    const got = await claim(b.id, 4, 4);
    expect(got.filter((j) => !j.reserved)).toHaveLength(4);
    expect(got.filter((j) => j.reserved)).toHaveLength(4);
    await recount(b.id);
    const [s1, s2, s3, s4] = got.filter((j) => !j.reserved);
    const [v1, v2, v3, v4] = got.filter((j) => j.reserved);
    // four slots' outcomes (a success, a failure for good, a retry, a park), two reservations started
    // in two of the freed slots, one reservation ended before its start was reported, one released
    const r = await runCycle(
      getPool(),
      OWNER,
      [
        outcome(s1!, "succeeded", { result: "1", cost: 0.5 }),
        outcome(s2!, "failed", { error: { code: "x", message: "x", retryable: false } }),
        outcome(s3!, "pending", { delayMs: 60_000 }),
        outcome(s4!, "waiting_input"),
        outcome(v3!, "succeeded", { result: "3", cost: 0.25 }),
        outcome(v4!, "pending", { release: true }),
      ],
      { want: 0, leaseMs: 60_000 },
      [v1!.id, v2!.id],
    );
    expect(r.applied).toBe(6);
    expect(r.newFailures.get(b.id)).toBe(1);
    await recount(b.id);
    const row = await batchRow(b.id);
    expect(row).toMatchObject({ running: 2, reserved: 0, succeeded: 2, failed: 1, waiting_input: 1 });
    expect(row.cost_spent).toBeCloseTo(0.75);
    // the next claim fills the two free slots from the requeued and the untouched jobs
    await claim(b.id, 2);
    await recount(b.id);
  });

  it("after a job's cancel: running, reserved, pending and parked jobs", async () => {
    const b = await make(8, { concurrency: 2 });
    const got = await claim(b.id, 2, 2);
    const [s1, s2] = got.filter((j) => !j.reserved);
    const [v1] = got.filter((j) => j.reserved);
    await runCycle(getPool(), OWNER, [outcome(s2!, "waiting_input")], null);
    await recount(b.id);
    const pending = (await getPool().query<{ record_id: string }>(`SELECT record_id FROM jobs WHERE batch_id = $1 AND status = 'pending' LIMIT 1`, [b.id])).rows[0]!;
    for (const recordId of [s1!.record_id, v1!.record_id, s2!.record_id, pending.record_id]) {
      expect((await cancelJob(b.id, recordId)).status).toBe("cancelled");
      await recount(b.id);
    }
    expect((await batchRow(b.id)).cancelled).toBe(4);
  });

  it("after a batch's cancel with jobs in every unfinished counter", async () => {
    const b = await make(10, { concurrency: 3 });
    const got = await claim(b.id, 3, 3);
    const slots = got.filter((j) => !j.reserved);
    await runCycle(getPool(), OWNER, [outcome(slots[0]!, "waiting_input"), outcome(slots[1]!, "waiting_provider")], null);
    await recount(b.id);
    await cancelBatch(b.id);
    await recount(b.id);
    expect(await batchRow(b.id)).toMatchObject({ pending: 0, running: 0, reserved: 0, waiting_input: 0, waiting_provider: 0, cancelled: 10 });
  });

  it("after a pause takes the reservations back, and a resume", async () => {
    const b = await make(10, { concurrency: 3 });
    await claim(b.id, 3, 3);
    expect((await batchRow(b.id)).reserved).toBe(3);
    await pauseBatch(b.id);
    await recount(b.id);
    expect(await batchRow(b.id)).toMatchObject({ reserved: 0, running: 3, pending: 7 });
    await resumeBatch(b.id);
    await recount(b.id);
  });

  it("after a stop: error policy (running aborted) and budget (running kept)", async () => {
    for (const reason of ["error_policy", "budget_exhausted"] as const) {
      const b = await make(10, { concurrency: 3 });
      const got = await claim(b.id, 3, 3);
      await runCycle(getPool(), OWNER, [outcome(got.find((j) => !j.reserved)!, "waiting_input")], null);
      await withTx((client) =>
        stopBatch(
          client,
          b.id,
          reason === "error_policy" ? { reason, failed: 0, recordId: null, error: null } : { reason, spent: 1, maxCost: 1 },
        ),
      );
      await recount(b.id);
      const row = await batchRow(b.id);
      expect(row.running).toBe(reason === "error_policy" ? 0 : 2);
      expect(row.skipped).toBe(reason === "error_policy" ? 10 : 8);
    }
  });

  it("after the bulk actions: cancel of pending and parked jobs, retry of failed and cancelled ones", async () => {
    const b = await make(8, { concurrency: 3 });
    const got = await claim(b.id, 3);
    await runCycle(
      getPool(),
      OWNER,
      [outcome(got[0]!, "failed", { error: { code: "x", message: "x", retryable: false } }), outcome(got[1]!, "waiting_provider")],
      null,
    );
    await recount(b.id);
    const cancelled = await bulkJobs(b.id, "cancel", { filter: { status: ["pending", "waiting_provider"] } });
    expect(cancelled.changed).toBe(6);
    await recount(b.id);
    const retried = await bulkJobs(b.id, "retry", { filter: { status: ["failed", "cancelled"] } });
    expect(retried.changed).toBe(7);
    await recount(b.id);
    expect(await batchRow(b.id)).toMatchObject({ pending: 7, running: 1, failed: 0, cancelled: 0 });
  });

  it("after a batch's and a job's retry of failed, cancelled and skipped jobs", async () => {
    const b = await make(6, { concurrency: 2 });
    const got = await claim(b.id, 2);
    await runCycle(getPool(), OWNER, [outcome(got[0]!, "failed", { error: { code: "x", message: "x", retryable: false } })], null);
    await withTx((client) => stopBatch(client, b.id, { reason: "budget_exhausted", spent: 1, maxCost: 1 }));
    await recount(b.id);
    await cancelJob(b.id, got[1]!.record_id);
    await recount(b.id);
    expect((await getBatch(b.id)).status).toBe("failed");
    await retryJob(b.id, got[0]!.record_id);
    await recount(b.id);
    const { retried } = await retryBatch(b.id, ["cancelled", "skipped"]);
    expect(retried).toBe(5);
    await recount(b.id);
    expect(await batchRow(b.id)).toMatchObject({ pending: 6, skipped: 0, cancelled: 0, failed: 0 });
  });

  it("after the lease sweep: started jobs (requeued, or failed past max_interruptions) and reservations", async () => {
    for (const maxInterruptions of [3, 0]) {
      const b = await make(8, { concurrency: 2, max_interruptions: maxInterruptions });
      await claim(b.id, 2, 2);
      await lapseLeasesOf(OWNER);
      expect(await expireLeases()).toBe(4);
      await recount(b.id);
      const row = await batchRow(b.id);
      expect(row).toMatchObject({ running: 0, reserved: 0, failed: maxInterruptions === 0 ? 2 : 0 });
      await getPool().query(`UPDATE workers SET lease_until = now() + interval '1 hour' WHERE id = $1`, [OWNER]);
      await cancelBatch(b.id);
    }
  });

  it("after parked jobs are woken", async () => {
    const b = await make(4, { concurrency: 2 });
    const got = await claim(b.id, 2);
    await runCycle(getPool(), OWNER, [outcome(got[0]!, "waiting_input"), outcome(got[1]!, "waiting_provider")], null);
    await recount(b.id);
    expect(await withTx((client) => wakeParked(client, [got[0]!.id], "waiting_input", "true"))).toBe(1);
    expect(await withTx((client) => wakeParked(client, [got[1]!.id], "waiting_provider", "true"))).toBe(1);
    await recount(b.id);
    expect(await batchRow(b.id)).toMatchObject({ pending: 4, waiting_input: 0, waiting_provider: 0 });
  });
});

describe("batch_counter_moves, the counters' rule", () => {
  it("takes each move's jobs out of one counter and into another, per batch in id order, with cost and new failures", async () => {
    const { rows } = await getPool().query(
      `SELECT * FROM batch_counter_moves($1::text[], $2::text[], $3::text[], $4::int[], $5::float8[])`,
      [
        ["b", "a", "b", "b", "a", "a"],
        ["running", "pending", "reserved", "failed", "pending", "running"],
        ["failed", "reserved", "running", "pending", "running", "running"],
        [2, 3, 1, 4, 5, 7],
        [0.5, 0, 0, 0, 0, 1],
      ],
    );
    expect(rows).toEqual([
      // a running -> running move leaves the counter as it is; its cost counts
      { batch_id: "a", pending: -8, running: 5, reserved: 3, waiting_input: 0, waiting_provider: 0, succeeded: 0, failed: 0, cancelled: 0, skipped: 0, cost: 1, new_failures: 0 },
      { batch_id: "b", pending: 4, running: -1, reserved: -1, waiting_input: 0, waiting_provider: 0, succeeded: 0, failed: -2, cancelled: 0, skipped: 0, cost: 0.5, new_failures: 2 },
    ]);
  });

  it("names a running job not started reserved (job_counter)", async () => {
    const { rows } = await getPool().query(
      `SELECT job_counter('running', true) AS started, job_counter('running', false) AS not_started, job_counter('pending', false) AS pending`,
    );
    expect(rows[0]).toEqual({ started: "running", not_started: "reserved", pending: "pending" });
  });
});
