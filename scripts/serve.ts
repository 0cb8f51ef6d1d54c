// `npm start` and `npm run dev`: one command that runs the whole product.
// Starts the embedded PostgreSQL when DATABASE_URL is unset, applies migrations, builds the app when
// the build is missing or older than the sources, runs Next.js (API, dashboard and, through
// instrumentation.ts, the in-process worker), prints the URL once /api/health answers, and on
// SIGINT/SIGTERM stops Next.js and then the database cleanly.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import path from "node:path";
import { getConfig } from "@/lib/config";
import { ensureDatabase } from "@/lib/db/ensure";
import { buildState } from "./lib/build-state";

const mode = process.argv[2] === "dev" ? "dev" : "start";
const root = process.cwd();
const nextBin = path.join(root, "node_modules", "next", "dist", "bin", "next");
const log = (line: string) => console.log(`[batchboard] ${line}`);

function buildIfStale() {
  const state = buildState(root);
  if (state === "current") return;
  log(state === "stale" ? "sources changed since the last build: building" : "no production build yet: building (first start only)");
  const r = spawnSync(process.execPath, [nextBin, "build"], { stdio: "inherit", env: process.env });
  if (r.status !== 0) {
    log("the build failed");
    process.exit(r.status ?? 1);
  }
}

async function waitForHealth(port: number, child: ChildProcess) {
  const url = `http://localhost:${port}/api/health`;
  for (;;) {
    if (child.exitCode !== null) return false;
    try {
      const res = await fetch(url);
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main() {
  const config = getConfig();
  const db = await ensureDatabase(log);
  if (db.migrations.applied.length) log(`applied ${db.migrations.applied.length} migration(s)`);
  if (mode === "start") buildIfStale();

  const child = spawn(process.execPath, [nextBin, mode, "-p", String(config.PORT)], {
    stdio: "inherit",
    env: { ...process.env, DATABASE_URL: db.url },
  });

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      // the worker gets its grace period inside Next.js; past that, stop hard
      const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await new Promise((r) => child.once("exit", r));
      clearTimeout(killer);
    }
    await db.embedded?.stop();
    log("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  child.on("exit", async (code) => {
    if (stopping) return;
    log(`Next.js exited (code ${code})`);
    await db.embedded?.stop();
    process.exit(code ?? 1);
  });

  if (await waitForHealth(config.PORT, child)) log(`ready: http://localhost:${config.PORT}`);
}

main().catch((err) => {
  console.error(`[batchboard] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
