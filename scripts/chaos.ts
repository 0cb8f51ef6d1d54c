// `npm run chaos [-- --jobs N] [-- --quick] [-- --only kill,restart,hang,terminate,graceful,kill-chunked]`: fault
// injection on a throwaway embedded PostgreSQL with real standalone workers (kill -9, a database
// restart, flows hanging past their timeout, terminated connections, graceful stops and restarts, kill -9 under a chunked batch). Prints one row per scenario and exits 1 if
// any invariant broke. test/chaos/chaos.test.ts runs the same scenarios at CI size.
import { parseArgs } from "node:util";
import { closeDb } from "@/lib/db/client";
import { chaosSize, formatReports, SCENARIOS, type ScenarioReport } from "@/test/support/chaos-scenarios";
import { startChaosCluster } from "@/test/support/cluster";

const { values } = parseArgs({
  options: {
    jobs: { type: "string" },
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    verbose: { type: "boolean", default: false },
  },
});
const quick = values.quick ?? false;
const jobs = Number(values.jobs ?? (quick ? 600 : 10_000));
if (!Number.isInteger(jobs) || jobs < 100 || jobs > 100_000) {
  console.error("--jobs must be an integer from 100 to 100000");
  process.exit(2);
}
const names = ["kill", "restart", "hang", "terminate", "graceful", "kill-chunked"];
const only = values.only ? values.only.split(",").map((s) => s.trim()) : names;
const unknown = only.filter((n) => !names.includes(n));
if (unknown.length) {
  console.error(`--only: unknown scenario ${unknown.join(", ")} (known: ${names.join(", ")})`);
  process.exit(2);
}

const log = (line: string) => console.log(`[chaos] ${line}`);
const size = chaosSize(jobs, quick);
log(`${jobs} jobs per batch (${quick ? "quick" : "full"}); starting a throwaway PostgreSQL`);
const cluster = await startChaosCluster(values.verbose ? log : () => {});
// the harness's own connections are tagged so that fault injection spares them
process.env.DATABASE_URL = cluster.harnessUrl;

const reports: ScenarioReport[] = [];
let exitCode = 0;
try {
  for (const [i, run] of SCENARIOS.entries()) {
    if (!only.includes(names[i]!)) continue;
    log(`scenario: ${run.name}`);
    try {
      const r = await run({ cluster, size, log });
      reports.push(r);
      log(`${r.name}: ${r.ok ? "OK" : "FAILED"} in ${r.seconds.toFixed(1)} s`);
      for (const c of r.crashes) log(`worker ${c.pid} died (code ${c.code}, signal ${c.signal}); its last output:\n${c.output}`);
    } catch (err) {
      exitCode = 1;
      log(`${run.name} could not run: ${(err as Error).stack ?? err}`);
    }
  }
} finally {
  await closeDb();
  await cluster.close();
}
console.log(`\n${formatReports(reports)}\n`);
if (reports.some((r) => !r.ok)) exitCode = 1;
console.log(exitCode === 0 ? "all invariants held" : "INVARIANTS FAILED");
process.exit(exitCode);
