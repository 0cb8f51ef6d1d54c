// A restart or a crash is not the flow's failure: at the default settings (no retries), workers
// stopped gracefully (SIGTERM, SIGINT) or killed (kill -9) at random moments and started again leave
// every record succeeded once. A graceful stop counts nothing; a crash counts an interruption, not an
// attempt, and a record that crashes its worker every time fails with `interrupted` once its
// batch's max_interruptions is passed.
import { beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { createBatch, getBatch, getJob, type CreateBatchInput } from "@/lib/engine";
import { startWorker } from "@/lib/worker/worker";
import { expireLeases } from "@/lib/engine/maintenance";
import { useTestDatabase as withTestDatabase } from "../helpers/db";
import { registerTestFlows } from "./fixtures/flows";
import { batchRow, createTestTables, executions, expectCountersExact, reservationsHeld, trackWorkerProcesses, waitFor, type WorkerProcess } from "./helpers";

const db = withTestDatabase();
registerTestFlows();

beforeAll(async () => {
  await createTestTables();
});

const spawnTracked = trackWorkerProcesses();
let spawned = 0;
const appName = new Map<WorkerProcess, string>();
function worker(env: Record<string, string> = {}) {
  // its connections are tagged, so a test can wait until a killed worker's last statement is over
  const url = new URL(db().url);
  const name = `restart-test-worker-${++spawned}`;
  url.searchParams.set("application_name", name);
  const w = spawnTracked({ DATABASE_URL: url.toString(), ...env });
  appName.set(w, name);
  return w;
}

/** A killed worker's statement still in PostgreSQL's hands runs to its end: wait until its connections are gone. */
async function connectionsGone(w: WorkerProcess) {
  await waitFor("the killed worker's connections closed", async () => {
    const { rows } = await getPool().query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1`, [appName.get(w)]);
    return rows[0]!.n === 0;
  });
}

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, n: i }));
// default retry settings: max_retries 0, max_interruptions 3
const make = (flow: string, n: number, extra: Partial<CreateBatchInput> = {}) =>
  createBatch({ flow, source: { kind: "records", records: records(n), recordIdField: "id" }, ...extra });

const done = async (id: string) => (await batchRow(id)).succeeded as number;

/** Waits until the batch has made some progress past `before` (or completed). */
async function progressed(id: string, before: number) {
  const step = 20 + Math.floor(Math.random() * 60);
  await waitFor("progress", async () => (await done(id)) > before + step || (await batchRow(id)).status === "completed", 30_000);
}

function settled(id: string, ms = 60_000) {
  return waitFor(`batch ${id} finished`, async () => {
    const b = await getBatch(id);
    return ["completed", "failed", "cancelled"].includes(b.status) && b;
  }, ms);
}

/** Every record succeeded exactly once: one succeeded job each, counted once in the counters and the metrics. */
async function expectAllSucceededOnce(batchId: string, n: number) {
  const b = await settled(batchId);
  expect({ status: b.status, succeeded: b.succeeded, failed: b.failed }).toEqual({ status: "completed", succeeded: n, failed: 0 });
  await expectCountersExact(batchId);
  const { rows } = await getPool().query(
    `SELECT count(*)::int AS jobs, count(DISTINCT record_id)::int AS records,
            count(*) FILTER (WHERE status = 'succeeded' AND result IS NOT NULL AND error_code IS NULL)::int AS succeeded,
            (SELECT COALESCE(sum(succeeded), 0)::int FROM batch_metrics WHERE batch_id = $1) AS metered
     FROM jobs WHERE batch_id = $1`,
    [batchId],
  );
  expect(rows[0]).toEqual({ jobs: n, records: n, succeeded: n, metered: n });
}

describe("graceful stops", () => {
  it("workers stopped with SIGTERM or SIGINT at random moments and started again: every record succeeds once, no attempt counted", async () => {
    // jobs long enough (600 ms) that a stop with no grace finds some running: a stop first waits for its
    // claim loop and outcome writes, which on a loaded machine can outlast a shorter job
    const b = await make("t-track", 400, { concurrency: 16, parameters: { delay_ms: 600 } });
    let stops = 0;
    let cutShort = 0;
    for (let round = 0; round < 4; round++) {
      // a grace of 0 hands every running job back at once; 2 s lets them finish. A lease far longer
      // than the test's stops: a job a stop failed to hand back would show as an interruption
      const w = worker({ CONCURRENCY: "16", GRACE_MS: round % 2 ? "0" : "2000", LEASE_MS: "10000" });
      await w.ready;
      await progressed(b.id, await done(b.id));
      if ((await batchRow(b.id)).status === "completed") break;
      w.child.kill(round % 2 ? "SIGINT" : "SIGTERM");
      expect(await w.exited).toBe(0);
      stops++;
      // "releasing N unfinished jobs": runs the stop aborted, each to run again from the start
      for (const line of w.logs()) cutShort += Number(/releasing (\d+) unfinished jobs/.exec(line)?.[1] ?? 0);
      // nothing left under the stopped worker: every job it held is pending again or finished
      expect(await batchRow(b.id)).toMatchObject({ running: 0, reserved: 0 });
      await expectCountersExact(b.id);
    }
    expect(stops).toBeGreaterThanOrEqual(2);
    worker({ CONCURRENCY: "16", LEASE_MS: "10000" });
    await expectAllSucceededOnce(b.id, 400);
    // no stop cost an attempt or counted as an interruption
    const { rows } = await getPool().query(
      `SELECT count(*) FILTER (WHERE attempts <> 1)::int AS attempts, count(*) FILTER (WHERE interruptions <> 0)::int AS interrupted
       FROM jobs WHERE batch_id = $1`,
      [b.id],
    );
    expect(rows[0]).toEqual({ attempts: 0, interrupted: 0 });
    // the stops did cut runs short, and each run a stop cut short ran again once, no more: one
    // execution per record plus one per aborted run
    expect(cutShort).toBeGreaterThan(0);
    const exec = await getPool().query(`SELECT count(*)::int AS n FROM test_exec WHERE batch_id = $1`, [b.id]);
    expect(exec.rows[0].n).toBe(400 + cutShort);
  }, 180_000);
});

describe("crashes", () => {
  it("workers killed (kill -9) at random moments and started again: every record succeeds once; interruptions are counted apart from attempts", async () => {
    const b = await make("t-echo", 600, { concurrency: 16, parameters: { delay_ms: 100 } });
    let kills = 0;
    for (let round = 0; round < 3; round++) {
      const w = worker({ CONCURRENCY: "16" });
      await w.ready;
      await progressed(b.id, await done(b.id));
      if ((await batchRow(b.id)).status === "completed") break;
      w.child.kill("SIGKILL");
      await w.exited;
      kills++;
    }
    expect(kills).toBeGreaterThanOrEqual(2);
    // the next worker finds the dead ones' leases lapsed, and runs their jobs again
    worker({ CONCURRENCY: "16" });
    await expectAllSucceededOnce(b.id, 600);
    const { rows } = await getPool().query(
      `SELECT count(*) FILTER (WHERE attempts <> 1)::int AS attempts, COALESCE(sum(interruptions), 0)::int AS interruptions
       FROM jobs WHERE batch_id = $1`,
      [b.id],
    );
    expect(rows[0].attempts).toBe(0);
    // the kills did interrupt attempts, and they were counted as interruptions
    expect(rows[0].interruptions).toBeGreaterThan(0);
  }, 180_000);

  it("a dead worker's reserved jobs go back to pending with no count; its started ones count one interruption", async () => {
    const w = worker({ CONCURRENCY: "4" });
    await w.ready;
    const b = await make("t-track", 300, { concurrency: 4, parameters: { delay_ms: 200 } });
    await reservationsHeld(b.id);
    w.child.kill("SIGKILL");
    await w.exited;
    await connectionsGone(w);
    const { rows: held } = await getPool().query<{ id: number; reserved: boolean }>(
      `SELECT id, started_at IS NULL AS reserved FROM jobs WHERE batch_id = $1 AND status = 'running'`,
      [b.id],
    );
    expect(held.filter((j) => j.reserved).length).toBeGreaterThan(0);
    expect(held.filter((j) => !j.reserved).length).toBeGreaterThan(0);
    // nobody heartbeats now: the sweep (any worker's, here by hand) finds the leases lapsed
    await waitFor("leases swept", async () => (await expireLeases(), (await batchRow(b.id)).running + (await batchRow(b.id)).reserved === 0));
    const reserved = new Set(held.filter((j) => j.reserved).map((j) => Number(j.id)));
    const { rows } = await getPool().query<{ id: number; status: string; attempts: number }>(
      `SELECT id, status::text, attempts FROM jobs WHERE id = ANY($1::bigint[]) ORDER BY id`,
      [held.map((j) => j.id)],
    );
    // all pending again, no attempt spent
    expect(rows.map((r) => ({ id: r.id, status: r.status, attempts: r.attempts }))).toEqual(rows.map((r) => ({ id: r.id, status: "pending", attempts: 0 })));
    const counted = await getPool().query<{ id: number; interruptions: number }>(
      `SELECT id, interruptions FROM jobs WHERE id = ANY($1::bigint[]) ORDER BY id`,
      [held.map((j) => j.id)],
    );
    expect(counted.rows).toEqual(counted.rows.map((r) => ({ id: r.id, interruptions: reserved.has(Number(r.id)) ? 0 : 1 })));
    await expectCountersExact(b.id);
    worker({ CONCURRENCY: "4" });
    await expectAllSucceededOnce(b.id, 300);
  }, 180_000);

  it("a worker killed mid-chunk loses nothing: every job of its calls runs again, one interruption each, and succeeds once", async () => {
    const w = worker({ CONCURRENCY: "2" });
    await w.ready;
    const b = await make("t-chunk", 40, { chunk_size: 10, concurrency: 2, parameters: { delay_ms: 60_000 } });
    await waitFor("two calls running", async () => (await batchRow(b.id)).running === 20);
    w.child.kill("SIGKILL");
    await w.exited;
    await connectionsGone(w);
    await waitFor("leases swept", async () => (await expireLeases(), (await batchRow(b.id)).running === 0));
    const { rows } = await getPool().query<{ interrupted: number }>(
      `SELECT count(*) FILTER (WHERE interruptions = 1 AND attempts = 0 AND status = 'pending')::int AS interrupted FROM jobs WHERE batch_id = $1`,
      [b.id],
    );
    expect(rows[0]!.interrupted).toBe(20);
    await expectCountersExact(b.id);
    // the next worker needs no minute per call: the settings are read when a worker first runs the batch
    await getPool().query(`UPDATE batches SET parameters = '{"delay_ms": 0}' WHERE id = $1`, [b.id]);
    worker({ CONCURRENCY: "2" });
    await expectAllSucceededOnce(b.id, 40);
  }, 120_000);

  it("a worker stalled past its own lease (a long GC pause, a starved CPU) does not take its own running job back", async () => {
    const w = await startWorker({ mode: "in-process", concurrency: 2, leaseMs: 600, pollMs: 20, maintenanceMs: 50, log: () => {} });
    try {
      const b = await make("t-track", 1, { parameters: { delay_ms: 2500 } });
      await waitFor("running", async () => (await batchRow(b.id)).running === 1);
      // the event loop blocked for 2.5 leases: when it runs again, its lease has lapsed
      const until = Date.now() + 1500;
      while (Date.now() < until);
      await waitFor("completed", async () => (await batchRow(b.id)).status === "completed");
      // it was a pause, not a crash: the one run finished, nothing was run twice or counted
      expect(await getJob(b.id, "r0")).toMatchObject({ status: "succeeded", attempts: 1, interruptions: 0 });
      expect((await executions(b.id)).n).toBe(1);
    } finally {
      await w.stop(500);
    }
  });

  it("a record that crashes its worker every time fails with `interrupted` once max_interruptions is passed", async () => {
    const b = await make("t-crash", 1, { max_interruptions: 2 });
    for (let crash = 1; crash <= 3; crash++) {
      const w = worker({ CONCURRENCY: "1" });
      // the flow kills the process running it
      await w.exited;
      await waitFor(`crash ${crash} swept`, async () => (await expireLeases(), (await batchRow(b.id)).running === 0));
      const job = await getJob(b.id, "r0");
      if (crash <= 2) expect(job).toMatchObject({ status: "pending", attempts: 0, interruptions: crash });
      else expect(job).toMatchObject({ status: "failed", attempts: 0, interruptions: 3, error: { code: "interrupted" } });
    }
    expect((await getBatch(b.id)).status).toBe("completed");
    await expectCountersExact(b.id);
    // the interrupted failure is counted like any other in the per-second metrics
    const m = await getPool().query(`SELECT COALESCE(sum(failed), 0)::int AS failed FROM batch_metrics WHERE batch_id = $1`, [b.id]);
    expect(m.rows[0].failed).toBe(1);
  });
});
