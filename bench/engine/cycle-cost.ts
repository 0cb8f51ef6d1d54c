// Our cycle statement alone (lib/db/sql/cycle.sql, run by lib/engine/cycle.ts), database only:
// no worker, no flows. One loop writes each cycle's outcomes (the record echoed back, as the echo
// flow does) and claims the next jobs in the same statement, at several cycle sizes, and with two
// loops of 32 on one batch. It separates what a cycle costs whatever its size from what each job
// adds: the fixed part is why a batch at concurrency 64 tops out where it does (bench/README.md).
import pg from "pg";
import { childConfig, childMain, round } from "../lib/child";
import { medianBy } from "../lib/median";
import { echoOutcomes } from "./echo-outcomes";

interface Config {
  url: string;
  /** timed cycles per measurement (after WARMUP untimed ones) */
  cycles: number;
  /** measurements per size, in rotating order; each size reports its median */
  rounds: number;
}

export interface CyclePoint {
  label: string;
  /** jobs each cycle writes and claims */
  size: number;
  /** loops in flight on the batch, each on its own connection */
  loops: number;
  cycles: number;
  jobs: number;
  seconds: number;
  msPerCycle: number;
  perSecond: number;
  /** how PostgreSQL ran the prepared statement on the loops' connections */
  plans: { generic: number; custom: number };
  /** ms per cycle of every round (the point is the median one) */
  runsMs: number[];
}

export interface CycleCostResult {
  points: CyclePoint[];
  /** a straight line through the 1-job and the 64-job points: ms per cycle = fixedMs + perJobUs / 1000 x jobs */
  fit: { fixedMs: number; perJobUs: number } | null;
}

const WARMUP = 20; // the first executions are planned one by one before the generic plan is kept
const SPECS = [
  { label: "1 job per cycle", size: 1, loops: 1 },
  { label: "16 jobs per cycle", size: 16, loops: 1 },
  { label: "64 jobs per cycle", size: 64, loops: 1 },
  { label: "256 jobs per cycle", size: 256, loops: 1 },
  { label: "2 loops of 32 jobs per cycle on one batch of concurrency 64", size: 32, loops: 2 },
];

const cfg = childConfig<Config>();
let engine: typeof import("@/lib/engine");
let cycle: typeof import("@/lib/engine/cycle");

childMain<CycleCostResult>(
  async () => {
    const { migrate } = await import("@/lib/db/migrate");
    await migrate(cfg.url, { log: () => {} });
    engine = await import("@/lib/engine");
    cycle = await import("@/lib/engine/cycle");
  },
  async () => {
    // rounds in rotating order, each size's median reported: one ~1 s measurement per size swung by
    // up to 2x with this machine's drift
    const runs = new Map<string, Omit<CyclePoint, "runsMs">[]>(SPECS.map((spec) => [spec.label, []]));
    for (let r = 0; r < cfg.rounds; r++) {
      for (let i = 0; i < SPECS.length; i++) {
        const spec = SPECS[(i + r) % SPECS.length]!;
        runs.get(spec.label)!.push(await measure(spec));
      }
    }
    const points = SPECS.map((spec) => {
      const all = runs.get(spec.label)!;
      return { ...medianBy(all, (p) => p.msPerCycle), runsMs: all.map((p) => p.msPerCycle) };
    });
    const one = points.find((p) => p.size === 1 && p.loops === 1);
    const many = points.find((p) => p.size === 64 && p.loops === 1);
    let fit: CycleCostResult["fit"] = null;
    if (one && many) {
      const perJobUs = round(((many.msPerCycle - one.msPerCycle) / 63) * 1000, 1);
      fit = { fixedMs: round(one.msPerCycle - perJobUs / 1000, 3), perJobUs };
    }
    await (await import("@/lib/db/client")).closeDb();
    return { points, fit };
  },
);

/** One batch (created, measured, cancelled: the loops' claims can only take from it) at one cycle size. */
async function measure(spec: (typeof SPECS)[number]): Promise<Omit<CyclePoint, "runsMs">> {
  // an inline batch holds at most 100,000 records: the largest cycles get fewer rounds
  const cycles = Math.min(cfg.cycles, Math.floor(100_000 / (spec.size * spec.loops)) - WARMUP - 1);
  const n = (cycles + WARMUP + 1) * spec.size * spec.loops;
  const { id } = await engine.createBatch({
    flow: "echo",
    parameters: { delay_ms: 0 },
    name: `cycle cost: ${spec.label}`,
    concurrency: spec.size * spec.loops,
    source: { kind: "records", recordIdField: "id", records: Array.from({ length: n }, (_, i) => ({ id: `r${i}`, text: `record ${i} of a cycle-cost batch` })) },
  });
  const loops = await Promise.all(Array.from({ length: spec.loops }, (_, l) => openLoop(id, `${id}_${l}`, spec.size)));
  for (const loop of loops) await loop.run(WARMUP);
  const t0 = performance.now();
  await Promise.all(loops.map((loop) => loop.run(cycles)));
  const seconds = (performance.now() - t0) / 1000;
  const plans = { generic: 0, custom: 0 };
  for (const loop of loops) {
    const p = await loop.plans();
    plans.generic += p.generic;
    plans.custom += p.custom;
  }
  await Promise.all(loops.map((loop) => loop.close()));
  await engine.cancelBatch(id);
  const jobs = cycles * spec.size * spec.loops;
  return {
    ...spec,
    cycles: cycles * spec.loops,
    jobs,
    seconds: round(seconds, 3),
    msPerCycle: round((seconds * 1000) / cycles, 3),
    perSecond: round(jobs / seconds),
    plans,
  };
}

/** One claimer: its own worker row and connection; each cycle writes the last cycle's jobs and claims as many. */
async function openLoop(batchId: string, owner: string, size: number) {
  const client = new pg.Client({ connectionString: cfg.url });
  await client.connect();
  await client.query(
    `INSERT INTO workers (id, host, pid, mode, concurrency, lease_until) VALUES ($1, 'bench', $2, 'standalone', $3, now() + interval '1 hour')`,
    [owner, process.pid, size],
  );
  let claimed: import("@/lib/engine/cycle").ClaimedJob[] = [];
  const claim = { want: size, leaseMs: 600_000, maxBatches: 1, min: 1 };
  return {
    async run(cycles: number) {
      for (let c = 0; c < cycles; c++) {
        const outcomes = echoOutcomes(claimed);
        claimed = (await cycle.runCycle(client, owner, outcomes, claim)).claimed;
        if (claimed.length === 0) {
          const { rows } = await client.query("SELECT status, pending, running, concurrency, total, claim_cursor FROM batches WHERE id = $1", [batchId]);
          throw new Error(`batch ${batchId}: nothing claimed (${owner}, cycle ${c}, ${outcomes.length} outcomes written; batch ${JSON.stringify(rows[0])})`);
        }
        if (claimed.some((j) => j.batch_id !== batchId)) throw new Error(`${owner} claimed from another batch`);
      }
    },
    async plans() {
      const { rows } = await client.query<{ generic: number; custom: number }>(
        "SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements WHERE name = 'batchboard_cycle'",
      );
      return rows[0] ?? { generic: 0, custom: 0 };
    },
    close: () => client.end(),
  };
}
