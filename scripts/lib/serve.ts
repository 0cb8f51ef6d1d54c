// What `npm start` and `npm run dev` do (scripts/serve.ts), with the server process as a parameter so
// tests can run it with a stand-in for Next.js: starts the embedded PostgreSQL when DATABASE_URL is
// unset, applies migrations, runs the server (API, dashboard and, through instrumentation.ts, the
// in-process worker), prints the URL once /api/health answers, and on SIGINT/SIGTERM stops the
// server and then the database cleanly.
import { spawn, type ChildProcess } from "node:child_process";
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
  const db = await ensureDatabase(log);
  if (db.migrations.applied.length) log(`applied ${db.migrations.applied.length} migration(s)`);
  beforeServer?.();

  const child = spawn(process.execPath, server, {
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

  if (await waitForHealth(port, child)) log(`ready: http://localhost:${port}`);
}
