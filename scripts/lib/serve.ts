// What `npm start` and `npm run dev` do (scripts/serve.ts), with the server process as a parameter so
// tests can run it with a stand-in for Next.js: starts the embedded PostgreSQL when DATABASE_URL is
// unset, applies migrations, runs the server (API, dashboard and, through instrumentation.ts, the
// in-process worker), prints the URL once /api/health answers, and on SIGINT/SIGTERM stops the
// server (its worker first) and then the database cleanly.
import { spawn, type ChildProcess } from "node:child_process";
import { getConfig } from "@/lib/config";
import { ensureDatabase } from "@/lib/db/ensure";

export interface ServeOptions {
  /** node arguments that run the server (Next.js `start` or `dev`) on `port` */
  server: string[];
  port: number;
  /** runs once the database is ready, before the server starts (the production build) */
  beforeServer?: () => void;
  log: (line: string) => void;
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

export async function serve({ server, port, beforeServer, log }: ServeOptions): Promise<void> {
  // PostgreSQL in a process group of its own: a terminal's Ctrl-C reaches the server and this process,
  // not the database, which stops last, once the server has handed back its jobs
  const db = await ensureDatabase(log, { detached: true, adopt: true });
  if (db.migrations.applied.length) log(`applied ${db.migrations.applied.length} migration(s)`);
  beforeServer?.();

  const child = spawn(process.execPath, server, {
    stdio: "inherit",
    env: { ...process.env, DATABASE_URL: db.url },
  });
  const exited = new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? `code ${code}`)));
  const graceMs = getConfig().BATCHBOARD_SHUTDOWN_GRACE_MS;

  let stopping = false;
  // whichever process was signalled (this one alone, or the whole group as a terminal does), the
  // order is the same: the server (whose worker hands back what it has not finished), then the database
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping the server, then the database`);
    if (child.exitCode === null && child.signalCode === null) {
      // forwarded: a signal sent to this process alone has not reached the server (twice is harmless)
      child.kill(signal);
      // running jobs get the worker's grace period, then go back; past a margin on that, stop hard
      const killer = setTimeout(() => {
        log(`the server did not stop within ${Math.round((graceMs + 20_000) / 1000)} s: killing it`);
        child.kill("SIGKILL");
      }, graceMs + 20_000);
      log(`server exited (${await exited}); stopping PostgreSQL`);
      clearTimeout(killer);
    }
    if (db.embedded) {
      await db.embedded.stop();
      log("PostgreSQL stopped");
    }
    log("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  void exited.then(async (how) => {
    if (stopping) return;
    log(`server exited (${how}); stopping PostgreSQL`);
    await db.embedded?.stop();
    process.exit(child.exitCode ?? 1);
  });

  if (await waitForHealth(port, child)) log(`ready: http://localhost:${port}`);
}
