// Our engine: N no-op `echo` jobs (no delay) with batch and worker concurrency 64; 1 worker process
// against 2, 20 concurrent batches against one, and jobs of 5 ms against the ceiling their slots set. Timed from PostgreSQL's record: min(started_at)
// to max(finished_at) of the batches' jobs, i.e. first claim to last completion.
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { BenchOptions } from "../lib/args";
import { ROOT, round, runChild, spawnChild, type ChildHandle } from "../lib/child";
import type { BenchServer } from "../lib/pg";
import type { Report } from "../lib/report";
import { OURS_SETTING } from "../lib/targets";
import { failedRow, type Row } from "../lib/types";
import type { CycleCostResult } from "./cycle-cost";
import type { WorkerChildResult } from "./worker";

export function engineAvailable() {
  return existsSync(path.join(ROOT, "lib", "engine", "index.ts"));
}

export async function setupBatches(
  url: string,
  batches: number[],
  concurrency: number,
  extra: { dataset?: string; profile?: boolean; env?: Record<string, string>; delayMs?: number } = {},
) {
  return runChild<{ batchIds: string[]; createSeconds: number }>(
    "engine/setup.ts",
    { url, batches, concurrency, dataset: extra.dataset, profile: extra.profile, delayMs: extra.delayMs },
    { env: { DATABASE_URL: url, BATCHBOARD_LOAD_DEMO: "0", ...extra.env }, label: "engine setup" },
  );
}

/**
 * The Node flags `npm run worker` gives a standalone worker (package.json), so our worker children
 * run as shipped: e.g. `node --max-semi-space-size=4 --import tsx scripts/worker.ts` -> ["--max-semi-space-size=4"].
 */
export function shippedWorkerFlags(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  const words = (pkg.scripts.worker ?? "").split(/\s+/);
  if (words[0] !== "node") return [];
  const flags: string[] = [];
  for (const w of words.slice(1)) {
    if (!w.startsWith("--") || w === "--import") break;
    flags.push(w);
  }
  return flags;
}

/** Starts `n` worker processes, each ready (modules loaded, connected) before any is told to go. */
export async function startWorkers(url: string, batchIds: string[], n: number, concurrency: number, execArgv: string[] = [], maxMs?: number) {
  const flags = [...shippedWorkerFlags(), ...execArgv];
  const handles: ChildHandle<WorkerChildResult>[] = Array.from({ length: n }, (_, i) =>
    spawnChild<WorkerChildResult>(
      "engine/worker.ts",
      { url, batchIds, concurrency, timeoutMs: 30 * 60_000, maxMs },
      { env: { DATABASE_URL: url, BATCHBOARD_WORKER_CONCURRENCY: String(concurrency) }, execArgv: flags, label: `engine worker ${i + 1}` },
    ),
  );
  await Promise.all(handles.map((h) => h.ready));
  for (const h of handles) h.go();
  return handles;
}

export async function jobTiming(url: string, batchIds: string[]) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ done: number; s: number; statuses: Record<string, number> }>(
      `SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS done,
              extract(epoch FROM max(finished_at) - min(started_at))::float8 AS s
       FROM jobs WHERE batch_id = ANY($1)`,
      [batchIds],
    );
    return rows[0]!;
  } finally {
    await c.end();
  }
}

interface EngineSpec {
  setting: string;
  db: string;
  batches: number[];
  workers: number;
  profile: boolean;
  /** each job waits this long (0: no-op) */
  delayMs?: number;
  /**
   * each worker's concurrency (default the batch's): workers sharing one batch split its slots, as a
   * user scaling out would set them (at the batch's concurrency, the first worker holds every slot)
   */
  workerConcurrency?: number;
}

async function engineRun(pgs: BenchServer, opts: BenchOptions, log: (l: string) => void, spec: EngineSpec): Promise<{ row: Row; profile?: Record<string, unknown> }> {
  const unit = "jobs/s";
  log(`batchboard (${spec.setting}) ...`);
  const url = await pgs.createDatabase(spec.db);
  try {
    const { batchIds } = await setupBatches(url, spec.batches, opts.concurrency, { profile: spec.profile, delayMs: spec.delayMs });
    const profDir = path.join(os.tmpdir(), "batchboard-bench-profiles");
    if (spec.profile) await mkdir(profDir, { recursive: true });
    const execArgv = spec.profile ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : [];
    const before = spec.profile ? new Set(await readdir(profDir)) : new Set<string>();
    const workerConcurrency = spec.workerConcurrency ?? opts.concurrency;
    const handles = await startWorkers(url, batchIds, spec.workers, workerConcurrency, execArgv);
    const results = await Promise.all(handles.map((h) => h.result));
    const t = await jobTiming(url, batchIds);
    const total = spec.batches.reduce((a, b) => a + b, 0);
    // jobs that wait: the batch's slots set a ceiling (concurrency / delay), and the row says how near it came
    const ceiling = spec.delayMs ? (opts.concurrency * 1000) / spec.delayMs : null;
    const perSecond = t.done / t.s;
    const row: Row = {
      section: "queues",
      system: "batchboard",
      setting: spec.setting,
      jobs: t.done,
      seconds: round(t.s, 3),
      perSecond: round(perSecond),
      unit,
      rssPeakMb: Math.max(...results.map((r) => r.rssPeakMb)),
      cpuSeconds: round(results.reduce((a, r) => a + r.cpuSeconds, 0), 2),
      notes: `${workerConcurrency === opts.concurrency ? `concurrency ${opts.concurrency} (batch and worker)` : `batch concurrency ${opts.concurrency}, ${workerConcurrency} per worker`}; worker flags ${shippedWorkerFlags().join(" ") || "none"} (as npm run worker)${spec.workers > 1 ? `; jobs per worker ${results.map((r) => r.processed.toLocaleString("en-US")).join(" / ")}` : ""}${ceiling ? `; each job waits ${spec.delayMs} ms: ${opts.concurrency} slots allow at most ${Math.round(ceiling).toLocaleString("en-US")} jobs/s, this is ${round((100 * perSecond) / ceiling, 1)}% of it` : ""}${t.done < total ? `; only ${t.done} of ${total} succeeded` : ""}`,
    };
    log(`batchboard (${spec.setting}): ${t.done.toLocaleString("en-US")} in ${row.seconds} s = ${row.perSecond?.toLocaleString("en-US")} jobs/s`);
    let profile: Record<string, unknown> | undefined;
    if (spec.profile) {
      const after = (await readdir(profDir)).filter((f) => !before.has(f) && f.endsWith(".cpuprofile"));
      profile = {
        cpuProfile: after.map((f) => path.join(profDir, f)),
        topFunctions: after.length ? await topFunctions(path.join(profDir, after[0]!)) : [],
        topStatements: await topStatements(url, spec.db),
      };
    }
    return { row, profile };
  } finally {
    await pgs.dropDatabase(spec.db).catch(() => {});
  }
}

/** The 1-worker, 1-batch run the targets compare (with `--profile`, the profiled one when `profile`). */
export async function runOursSingle(pgs: BenchServer, opts: BenchOptions, report: Report, log: (l: string) => void, profile: boolean): Promise<Row> {
  const setting = `${OURS_SETTING} of ${opts.jobs.toLocaleString("en-US")}`;
  try {
    const run = await engineRun(pgs, opts, log, { setting, db: "bench_engine_1w", batches: [opts.jobs], workers: 1, profile: profile && opts.profile });
    if (run.profile) report.profile = run.profile;
    return run.row;
  } catch (err) {
    return failedRow(log, { section: "queues", system: "batchboard", setting, unit: "jobs/s" }, err);
  }
}

/**
 * Our other runs: 2 worker processes sharing one batch's slots, 20 concurrent batches (the 1-worker run is head to
 * head), and one batch of jobs that each wait 5 ms: how close the engine keeps the batch's slots to
 * busy when a job is short but not free (a fast model or service).
 */
export async function runEngineSection(pgs: BenchServer, opts: BenchOptions, report: Report, log: (l: string) => void) {
  const J = opts.jobs;
  const per = Math.max(1, Math.round(J / 20));
  const short = Math.min(J, 20_000);
  const runs: EngineSpec[] = [
    {
      setting: `2 workers of concurrency ${Math.ceil(opts.concurrency / 2)}, 1 batch of ${J.toLocaleString("en-US")}`,
      db: "bench_engine_2w",
      batches: [J],
      workers: 2,
      workerConcurrency: Math.ceil(opts.concurrency / 2),
      profile: false,
    },
    { setting: `1 worker, 20 batches of ${per.toLocaleString("en-US")}`, db: "bench_engine_20b", batches: Array(20).fill(per) as number[], workers: 1, profile: false },
    { setting: `1 worker, 1 batch of ${short.toLocaleString("en-US")}, 5 ms jobs`, db: "bench_engine_5ms", batches: [short], workers: 1, profile: false, delayMs: 5 },
  ];
  for (const spec of runs) {
    try {
      const { row } = await engineRun(pgs, opts, log, spec);
      report.rows.push(row);
    } catch (err) {
      report.rows.push(failedRow(log, { section: "queues", system: "batchboard", setting: spec.setting, unit: "jobs/s" }, err));
    }
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self time by function from a V8 .cpuprofile: where the worker's CPU goes. */
async function topFunctions(file: string) {
  const prof = JSON.parse(await readFile(file, "utf8")) as { nodes: ProfileNode[]; samples: number[] };
  const hits = new Map<string, number>();
  let total = 0;
  for (const n of prof.nodes) {
    const h = n.hitCount ?? 0;
    total += h;
    const where = n.callFrame.url ? `${n.callFrame.url.replace(/^file:\/\//, "").replace(ROOT + "/", "")}:${n.callFrame.lineNumber + 1}` : "";
    const key = `${n.callFrame.functionName || "(anonymous)"} ${where}`.trim();
    hits.set(key, (hits.get(key) ?? 0) + h);
  }
  return [...hits.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 20)
    .map(([fn, h]) => ({ fn, selfPercent: round((100 * h) / Math.max(1, total), 1) }));
}

async function topStatements(url: string, db: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query(
      `SELECT calls, plans, round(total_exec_time::numeric, 1) AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms, round(mean_plan_time::numeric, 3) AS mean_plan_ms, rows,
              left(regexp_replace(query, '\\s+', ' ', 'g'), 300) AS query
       FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
       WHERE d.datname = $1 ORDER BY total_exec_time DESC LIMIT 12`,
      [db],
    );
    return rows;
  } catch (err) {
    return [{ error: (err as Error).message }];
  } finally {
    await c.end();
  }
}

/**
 * Our cycle statement alone, database only, by cycle size (./cycle-cost.ts): what a cycle costs
 * whatever its size and what each job adds. Diagnostic rows; no target reads them.
 */
export async function runCycleCostSection(pgs: BenchServer, opts: BenchOptions, report: Report, log: (l: string) => void) {
  const system = "batchboard cycle statement";
  log(`${system} (database only, by cycle size) ...`);
  const url = await pgs.createDatabase("bench_cycle_cost");
  try {
    const r = await runChild<CycleCostResult>(
      "engine/cycle-cost.ts",
      { url, cycles: opts.quick ? 100 : 400, rounds: opts.rounds },
      { env: { DATABASE_URL: url, BATCHBOARD_LOAD_DEMO: "0" }, label: "cycle cost" },
    );
    for (const p of r.points) {
      log(`${system} (${p.label}): ${p.msPerCycle} ms per cycle, ${p.perSecond.toLocaleString("en-US")} jobs/s; plans ${p.plans.generic} generic, ${p.plans.custom} custom`);
      report.rows.push({
        section: "cycle",
        system,
        setting: p.label,
        jobs: p.jobs,
        seconds: p.seconds,
        perSecond: p.perSecond,
        unit: "jobs/s, db only",
        notes: `${p.msPerCycle} ms per cycle, median of ${p.runsMs.length} rounds: ${p.runsMs.join(" / ")} ms; ${p.cycles.toLocaleString("en-US")} cycles, no worker and no flows: each cycle writes the last one's outcomes and claims the next jobs; plans: ${p.plans.generic} generic, ${p.plans.custom} custom`,
      });
    }
    if (r.fit) {
      report.notes.push(
        `Our cycle statement, database only: ~${r.fit.fixedMs} ms per cycle whatever its size, plus ~${r.fit.perJobUs} us per job (a line through the 1-job and 64-job cycles).`,
      );
    }
  } catch (err) {
    report.rows.push(failedRow(log, { section: "cycle", system, setting: "by cycle size", unit: "jobs/s, db only" }, err));
  } finally {
    await pgs.dropDatabase("bench_cycle_cost").catch(() => {});
  }
}
