// `npm run bench`: every system on one throwaway PostgreSQL, each in its own child process on the
// same Node binary; prints a table and the target checks, writes bench/results/latest.{md,json}.
// Figures are measured, never asserted: a missed target is printed, not failed.
import os from "node:os";
import path from "node:path";
import { parseBenchArgs, type BenchOptions } from "./lib/args";
import { benchNode, ROOT, runChild } from "./lib/child";
import { startBenchServer, type BenchServer } from "./lib/pg";
import { renderLatency, renderTable, renderTargets, writeReport, type Report, type Target } from "./lib/report";
import { failedRow, type Row, type SystemResult } from "./lib/types";
import { engineAvailable, runCycleCostSection, runEngineSection, runOursSingle } from "./engine/section";
import { medianRow } from "./lib/median";
import { apiAvailable, runApiSection } from "./api/section";
import { runRateLimitSection } from "./ratelimits/section";
import { runChunksSection } from "./chunks/section";
import { runPagesSection } from "./pages/section";
import { evaluateTargets, oursRate } from "./lib/targets";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const log = (line: string) => console.log(`[bench] ${line}`);

function rowFrom(section: string, system: string, setting: string, unit: string, r: SystemResult): Row {
  return {
    section,
    system,
    setting,
    jobs: r.jobs,
    seconds: r.seconds,
    perSecond: r.perSecond,
    unit,
    rssPeakMb: r.rssPeakMb,
    cpuSeconds: r.cpuSeconds,
    notes: [r.notes, r.extra?.statementsPerSecond ? `${Math.round(r.extra.statementsPerSecond as number).toLocaleString("en-US")} statements/s` : ""]
      .filter(Boolean)
      .join("; "),
  };
}

/** Runs one system in its own database, then drops it so the next starts on a quiet server. */
async function measureOnce(
  pgs: BenchServer,
  spec: { section: string; system: string; setting: string; unit: string; db: string; script: string; config: Record<string, unknown> },
): Promise<Row> {
  log(`${spec.system} (${spec.setting}) ...`);
  try {
    const url = await pgs.createDatabase(spec.db);
    const r = await runChild<SystemResult>(spec.script, { ...spec.config, url }, { label: `${spec.system} ${spec.setting}` });
    const row = rowFrom(spec.section, spec.system, spec.setting, spec.unit, r);
    log(`${spec.system} (${spec.setting}): ${row.jobs?.toLocaleString("en-US")} in ${row.seconds} s = ${row.perSecond?.toLocaleString("en-US")} ${spec.unit}`);
    return row;
  } catch (err) {
    return failedRow(log, spec, err);
  } finally {
    await pgs.dropDatabase(spec.db).catch(() => {});
  }
}

async function measure(pgs: BenchServer, rows: Row[], spec: Parameters<typeof measureOnce>[1]) {
  rows.push(await measureOnce(pgs, spec));
}

const want = (o: BenchOptions, s: string) => !o.only || o.only.has(s);

function nodeVersion(): string {
  return execFileSync(benchNode(), ["--version"], { encoding: "utf8" }).trim();
}

/** graphile-worker and pg-boss live in bench/package.json (they declare Node >= 22): installed on first use. */
function ensureComparedSystems() {
  if (existsSync(path.join(ROOT, "bench", "node_modules", "pg-boss")) && existsSync(path.join(ROOT, "bench", "node_modules", "graphile-worker"))) return;
  log("installing the compared systems into bench/node_modules (npm ci --prefix bench)");
  const r = spawnSync("npm", ["ci", "--prefix", "bench", "--no-audit", "--no-fund"], { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) throw new Error("npm ci --prefix bench failed");
}

async function main() {
  const opts = parseBenchArgs(process.argv.slice(2));
  if (!opts.only || opts.only.has("graphile") || opts.only.has("pgboss")) ensureComparedSystems();
  const started = Date.now();
  const report: Report = {
    startedAt: new Date(started).toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    options: { ...opts, only: opts.only ? [...opts.only] : null },
    machine: {
      cpu: os.cpus()[0]?.model ?? "unknown",
      cores: os.cpus().length,
      ramGb: os.totalmem() / 1024 ** 3,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: nodeVersion(),
      loadAvgStart: os.loadavg(),
    },
    postgres: null,
    rows: [],
    latency: [],
    memory: null,
    targets: [],
    notes: [],
  };
  log(`Node ${report.machine.node} at ${path.relative(ROOT, benchNode())}; ${report.machine.cores} cores (${report.machine.cpu}); load ${report.machine.loadAvgStart.map((x) => x.toFixed(2)).join(" ")}`);

  const sectionTargets: Target[] = [];
  const pgs = await startBenchServer({ durable: opts.durable, profile: opts.profile });
  const stopServer = async () => pgs.stop().catch(() => {});
  process.on("SIGINT", () => void stopServer().then(() => process.exit(130)));
  try {
    report.postgres = await pgs.describe();
    log(`${report.postgres.version.split(",")[0]} on port ${pgs.server.port}, data in ${pgs.dataDir}`);
    log(`settings: ${Object.entries(report.postgres.settings).map(([k, v]) => `${k}=${v}`).join(" ")}`);
    const rows = report.rows;
    const J = opts.jobs;

    if (want(opts, "ref")) {
      const ref = { section: "reference", system: "plain pg loop", unit: "rows/s", script: "systems/pg-reference.ts" };
      const base = { clients: opts.clients, durationMs: opts.refSeconds * 1000, jobs: J };
      await measure(pgs, rows, { ...ref, setting: "1-row UPDATE per transaction", db: "bench_ref1", config: { ...base, mode: "update1" } });
      await measure(pgs, rows, { ...ref, setting: "UPDATE 100 rows per statement", db: "bench_ref100", config: { ...base, mode: "update100" } });
      await measure(pgs, rows, { ...ref, setting: "SKIP LOCKED claim + complete, 50 per statement", db: "bench_refq", config: { ...base, mode: "skiplocked" } });
    }
    const gw = { section: "queues", system: "graphile-worker", unit: "jobs/s", script: "systems/graphile-worker.ts" };
    const pb = { section: "queues", system: "pg-boss", unit: "jobs/s", script: "systems/pg-boss.ts" };
    const pbCap = opts.quick ? 15 : 60;
    if (want(opts, "graphile")) await measure(pgs, rows, { ...gw, setting: "defaults", db: "bench_gw_defaults", config: { jobs: J, setting: "defaults" } });
    if (want(opts, "pgboss")) {
      await measure(pgs, rows, { ...pb, setting: "defaults", db: "bench_pgboss_defaults", config: { jobs: J, setting: "defaults", maxSeconds: pbCap } });
    }

    // Head to head: the rows the targets compare run interleaved, in rotating order, `rounds` times
    // each, and report their medians: this machine's speed drifts over minutes, and one run of each,
    // a minute apart, measured the drift as much as the systems.
    const ours = want(opts, "engine") && engineAvailable();
    const contenders: { name: string; run: (round: number) => Promise<Row> }[] = [];
    if (want(opts, "graphile")) {
      contenders.push({ name: "graphile-worker fastest", run: () => measureOnce(pgs, { ...gw, setting: "fastest", db: "bench_gw_fastest", config: { jobs: J, setting: "fastest" } }) });
    }
    if (want(opts, "pgboss")) {
      contenders.push({ name: "pg-boss fastest", run: () => measureOnce(pgs, { ...pb, setting: "fastest", db: "bench_pgboss_fastest", config: { jobs: J, setting: "fastest", maxSeconds: pbCap } }) });
    }
    if (ours) contenders.push({ name: "batchboard", run: (round) => runOursSingle(pgs, opts, report, log, round === 0) });
    const runs = new Map<string, Row[]>(contenders.map((c) => [c.name, []]));
    for (let round = 0; round < opts.rounds; round++) {
      if (opts.rounds > 1 && contenders.length > 0) log(`head-to-head round ${round + 1} of ${opts.rounds}`);
      for (let i = 0; i < contenders.length; i++) {
        const c = contenders[(i + round) % contenders.length]!;
        runs.get(c.name)!.push(await c.run(round));
      }
    }
    for (const c of contenders) rows.push(medianRow(runs.get(c.name)!, "interleaved runs"));

    if (want(opts, "engine")) {
      if (ours) await runEngineSection(pgs, opts, report, log);
      else report.notes.push("Our engine (lib/engine/index.ts) is not in this tree yet: its rows were skipped.");
    }
    if (want(opts, "cycle") && engineAvailable()) await runCycleCostSection(pgs, opts, report, log);
    if (want(opts, "ratelimits") && engineAvailable()) sectionTargets.push(...(await runRateLimitSection(pgs, opts, report, log)));
    if (want(opts, "chunks") && engineAvailable()) sectionTargets.push(...(await runChunksSection(pgs, opts, report, log)));
    if (want(opts, "pages")) {
      if (apiAvailable()) sectionTargets.push(...(await runPagesSection(pgs, opts, report, log)));
      else report.notes.push("The app (app/api/batches) is not in this tree yet: page speed was skipped.");
    }
    if (want(opts, "api")) {
      if (engineAvailable() && apiAvailable()) await runApiSection(pgs, opts, report, log);
      else report.notes.push("The REST API (app/api/batches) or the engine is not in this tree yet: ingest, latency and memory were skipped.");
    }
  } finally {
    await stopServer();
  }

  report.finishedAt = new Date().toISOString();
  report.durationSeconds = Math.round((Date.now() - started) / 1000);
  report.machine.loadAvgEnd = os.loadavg();
  report.targets = [...evaluateTargets(report), ...sectionTargets];
  const load = Math.max(report.machine.loadAvgStart[0]!, report.machine.loadAvgEnd[1]!);
  if (load > report.machine.cores) {
    report.notes.push(`The machine was busy (load average up to ${load.toFixed(1)} on ${report.machine.cores} cores): figures are noisy and low; re-run on a quiet machine before comparing.`);
  }
  const ours = oursRate(report.rows);
  const dir = path.resolve(ROOT, opts.out);
  await writeReport(dir, report, ours);

  console.log("\n" + renderTable(report.rows, ours));
  if (report.latency.length) console.log("\n" + renderLatency(report.latency));
  if (report.memory) console.log("\nworker memory: " + JSON.stringify({ ...report.memory, rssSamples: undefined }));
  console.log("\n" + renderTargets(report.targets));
  for (const n of report.notes) console.log(`note: ${n}`);
  console.log(`\nNode ${report.machine.node}; load average at end ${report.machine.loadAvgEnd.map((x) => x.toFixed(2)).join(" ")}; ${report.durationSeconds} s in all`);
  console.log(`wrote ${path.relative(ROOT, dir)}/latest.md and latest.json`);
}

main().catch((err) => {
  console.error(`[bench] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
