// Shared helpers for the engine tests: a database with the test tables, polling with a deadline,
// spawned worker processes, and the counters-vs-truth check.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import type pg from "pg";
import { afterAll, afterEach, expect } from "vitest";
import { getPool } from "@/lib/db/client";
import { cancelBatch, createBatch, type CreateBatchInput } from "@/lib/engine";
import { registerWorker } from "@/lib/engine/workers";
import { TEST_TABLES_SQL } from "./fixtures/flows";

export async function createTestTables() {
  await getPool().query(TEST_TABLES_SQL);
}

import { waitFor } from "@/test/support/wait";

export { waitFor };

export async function batchRow(id: string) {
  const { rows } = await getPool().query(`SELECT * FROM batches WHERE id = $1`, [id]);
  return rows[0] as Record<string, unknown> & { status: string; running: number; reserved: number; pending: number };
}

/** Polls the batch row until it completes, keeping the most jobs it ever had running and reserved. */
export async function sampleUntilCompleted(id: string, ms?: number) {
  let maxRunning = 0;
  let maxReserved = 0;
  const done = await waitFor("completed while sampling", async () => {
    const r = await batchRow(id);
    maxRunning = Math.max(maxRunning, r.running);
    maxReserved = Math.max(maxReserved, r.reserved);
    return r.status === "completed" && r;
  }, ms);
  return { done, maxRunning, maxReserved };
}

/** Waits until a worker holds reservations of the batch. */
export async function reservationsHeld(id: string) {
  await waitFor("reservations held", async () => (await batchRow(id)).reserved > 0);
}

/**
 * The batch's executions as the t-track flow recorded them (test_exec, database clock): how many,
 * the most in flight at any start, and how many worker processes ran them.
 */
export async function executions(batchId: string) {
  const { rows } = await getPool().query<{ peak: number; n: number; pids: number }>(
    `SELECT COALESCE(max(c), 0)::int AS peak, count(*)::int AS n, (SELECT count(DISTINCT pid) FROM test_exec WHERE batch_id = $1)::int AS pids
     FROM (SELECT (SELECT count(*) FROM test_exec o WHERE o.batch_id = e.batch_id
                     AND o.started_at <= e.started_at AND (o.ended_at IS NULL OR o.ended_at > e.started_at)) AS c
           FROM test_exec e WHERE e.batch_id = $1) s`,
    [batchId],
  );
  return rows[0]!;
}

/**
 * The batch's counters must equal a GROUP BY over its jobs, both read in one statement (one snapshot:
 * a worker still running the batch commits between two separate reads).
 */
export async function expectCountersExact(batchId: string) {
  // a running job not started yet (started_at NULL) is a worker's reservation: counted in `reserved`
  const { rows } = await getPool().query<{ batch: Record<string, unknown>; groups: Record<string, number> | null }>(
    `SELECT (SELECT row_to_json(b) FROM batches b WHERE b.id = $1) AS batch,
            (SELECT json_object_agg(status, n) FROM (
               SELECT CASE WHEN status = 'running' AND started_at IS NULL THEN 'reserved' ELSE status::text END AS status, count(*)::int AS n
               FROM jobs WHERE batch_id = $1 GROUP BY 1) g) AS groups`,
    [batchId],
  );
  const truth: Record<string, number> = { pending: 0, running: 0, reserved: 0, waiting_input: 0, waiting_provider: 0, succeeded: 0, failed: 0, cancelled: 0, skipped: 0 };
  Object.assign(truth, rows[0]!.groups ?? {});
  const b = rows[0]!.batch;
  const counters = Object.fromEntries(Object.keys(truth).map((k) => [k, b[k]]));
  expect(counters).toEqual(truth);
  expect(b.total).toBe(Object.values(truth).reduce((a, c) => a + c, 0));
}

const root = path.resolve(import.meta.dirname, "../..");

export interface WorkerProcess {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<number | null>;
  /** the worker's log lines so far (its stdout after "ready") */
  logs(): string[];
}

export function spawnWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "test/engine/fixtures/worker.ts")], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  child.stderr!.on("data", (d) => (stderr += String(d)));
  child.stdout!.on("data", (d) => (stdout += String(d)));
  const ready = new Promise<void>((resolve, reject) => {
    // after the listener above has appended the chunk
    child.stdout!.on("data", () => {
      if (/^ready /m.test(stdout)) resolve();
    });
    child.once("exit", (code) => reject(new Error(`worker exited (${code}) before ready: ${stderr.slice(-2000)}`)));
  });
  ready.catch(() => {});
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const logs = () => stdout.split("\n").filter((l) => l.startsWith("log ")).map((l) => l.slice(4));
  return { child, ready, exited, logs };
}

/**
 * Worker processes for one test file: a test's leftovers are killed after it, and the batches it left
 * runnable cancelled, so what one test leaves cannot feed the next one's workers. Returns the spawner.
 */
export function trackWorkerProcesses(): (env: Record<string, string>) => WorkerProcess {
  const children: WorkerProcess[] = [];
  afterEach(async () => {
    for (const w of children.splice(0)) {
      if (w.child.exitCode === null && w.child.signalCode === null) {
        w.child.kill("SIGKILL");
        await w.exited;
      }
    }
    const { rows } = await getPool().query<{ id: string }>(`SELECT id FROM batches WHERE status IN ('pending', 'running', 'paused')`);
    for (const r of rows) await cancelBatch(r.id);
  });
  afterAll(() => {
    for (const w of children) w.child.kill("SIGKILL");
  });
  return (env) => {
    const w = spawnWorker({ LEASE_MS: "1000", ...env });
    children.push(w);
    return w;
  };
}

/** What a worker that stopped heartbeating leaves: its own lease and its running jobs' leases ran out (a sweep then takes the jobs back). */
export async function lapseLeasesOf(worker: string): Promise<void> {
  await getPool().query(`UPDATE workers SET lease_until = now() - interval '1 second' WHERE id = $1`, [worker]);
  await getPool().query(`UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE lease_owner = $1 AND status = 'running'`, [worker]);
  // a chunked batch's jobs are leased through their call
  await getPool().query(`UPDATE batch_calls SET lease_expires_at = now() - interval '1 second' WHERE worker_id = $1`, [worker]);
}

/**
 * The chunked batch the batch_calls migration tests start from, as rows of an older schema (`batch`:
 * the INSERT of batch `b_chunk` on dataset `ds_c`, whose columns differ by schema): `records`
 * records, concurrency 3, chunk_size 10, calls 0-2 claimed: call 0 all ended, call 1 with 3 jobs still
 * running, call 2 with 10, under worker `wrk_old`; the rest pending.
 */
export async function insertChunkedBatchWithCalls(c: Pick<pg.Client, "query">, records: number, batch: string): Promise<void> {
  await c.query(`INSERT INTO datasets (id, name, kind, format, record_count) VALUES ('ds_c', 'inline:c', 'inline', 'inline', $1)`, [records]);
  await c.query(`INSERT INTO dataset_records (dataset_id, position, record_id, data) SELECT 'ds_c', g, 'r' || g, '{}' FROM generate_series(0, $1::int - 1) g`, [records]);
  await c.query(batch);
  await c.query(
    `INSERT INTO jobs (batch_id, record_id, ordinal, position, status, attempts, call_id, lease_owner, lease_expires_at, started_at)
     SELECT 'b_chunk', 'r' || g, g, g,
            (CASE WHEN g < 30 AND (g < 10 OR g BETWEEN 13 AND 19) THEN 'succeeded' WHEN g < 30 THEN 'running' ELSE 'pending' END)::job_status,
            CASE WHEN g < 30 THEN 1 ELSE 0 END, CASE WHEN g < 30 THEN g / 10 END,
            CASE WHEN g < 30 AND NOT (g < 10 OR g BETWEEN 13 AND 19) THEN 'wrk_old' END,
            CASE WHEN g < 30 AND NOT (g < 10 OR g BETWEEN 13 AND 19) THEN now() + interval '1 hour' END,
            CASE WHEN g < 30 THEN now() END
     FROM generate_series(0, $1::int - 1) g`,
    [records],
  );
}

/** A batch of `n` records r0..r{n-1} of the chunked test flow (t-chunk), in record order. */
export const makeChunkedBatch = (n: number, extra: Partial<CreateBatchInput> = {}) =>
  createBatch({
    flow: "t-chunk",
    source: { kind: "records", records: Array.from({ length: n }, (_, i) => ({ id: `r${i}` })), recordIdField: "id" },
    shuffle: false,
    ...extra,
  });

let claimers = 0;
/** A new worker row to claim with (no worker process): its id. */
export async function registerClaimer(leaseMs = 30_000): Promise<string> {
  const id = `wrk_claim_${++claimers}`;
  await registerWorker({ id, host: "test", pid: 1, mode: "standalone", version: "0", concurrency: 8, leaseMs });
  return id;
}
