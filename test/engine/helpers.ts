// Shared helpers for the engine tests: a database with the test tables, polling with a deadline,
// spawned worker processes, and the counters-vs-truth check.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { expect } from "vitest";
import { getPool } from "@/lib/db/client";
import { TEST_TABLES_SQL } from "./fixtures/flows";

export async function createTestTables() {
  await getPool().query(TEST_TABLES_SQL);
}

export { waitFor } from "@/lib/testing/wait";

export async function batchRow(id: string) {
  const { rows } = await getPool().query(`SELECT * FROM batches WHERE id = $1`, [id]);
  return rows[0] as Record<string, unknown> & { status: string; running: number; pending: number };
}

/** The batch's counters must equal a GROUP BY over its jobs. */
export async function expectCountersExact(batchId: string) {
  const pool = getPool();
  // a running job not started yet (started_at NULL) is a worker's reservation: counted in `reserved`
  const { rows } = await pool.query<{ status: string; n: number }>(
    `SELECT CASE WHEN status = 'running' AND started_at IS NULL THEN 'reserved' ELSE status::text END AS status, count(*)::int AS n
     FROM jobs WHERE batch_id = $1 GROUP BY 1`,
    [batchId],
  );
  const truth: Record<string, number> = { pending: 0, running: 0, reserved: 0, waiting_input: 0, succeeded: 0, failed: 0, cancelled: 0, skipped: 0 };
  for (const r of rows) truth[r.status] = r.n;
  const b = await batchRow(batchId);
  const counters = Object.fromEntries(Object.keys(truth).map((k) => [k, b[k]]));
  expect(counters).toEqual(truth);
  expect(b.total).toBe(Object.values(truth).reduce((a, c) => a + c, 0));
}

const root = path.resolve(import.meta.dirname, "../..");

export interface WorkerProcess {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<number | null>;
}

export function spawnWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "test/engine/fixtures/worker.ts")], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += String(d)));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d) => {
      if (String(d).includes("ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`worker exited (${code}) before ready: ${stderr.slice(-2000)}`)));
  });
  ready.catch(() => {});
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, ready, exited };
}
