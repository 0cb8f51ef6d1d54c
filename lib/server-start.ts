// What a Next.js server process starts besides serving requests (called from instrumentation.ts).
import { getConfig } from "@/lib/config";
import { migrate } from "@/lib/db/migrate";
import type { WorkerHandle } from "@/lib/worker/worker";

const g = globalThis as typeof globalThis & { __batchboardStarted?: boolean };

export async function startServerSideServices() {
  if (g.__batchboardStarted) return;
  g.__batchboardStarted = true;
  const config = getConfig();
  if (!config.DATABASE_URL) {
    console.warn("[batchboard] DATABASE_URL is not set: start with `npm start` or `npm run dev`, which provide a database.");
    return;
  }
  // `npm start` has migrated already; this covers `next start` run directly against DATABASE_URL.
  await migrate(config.DATABASE_URL, { log: (l) => console.log(`[migrate] ${l}`) });
  if (config.BATCHBOARD_LOAD_DEMO) {
    const { ensureDemoDataset } = await import("@/lib/datasets");
    await ensureDemoDataset().catch((err: Error) => console.error(`[batchboard] loading the demo dataset failed: ${err.message}`));
  }
  const { ensureAdminAccess } = await import("@/lib/auth/bootstrap");
  await ensureAdminAccess(`http://localhost:${config.PORT}`, (l) => console.log(`[batchboard] ${l}`));
  if (config.BATCHBOARD_WORKER) {
    const { startWorker } = await import("@/lib/worker/worker");
    stopWorkerFirst(await startWorker({ mode: "in-process" }), config.BATCHBOARD_SHUTDOWN_GRACE_MS);
  }
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * On SIGINT or SIGTERM the worker stops first: it stops claiming, lets running jobs finish within
 * the grace period and hands back the rest. Next.js's own handlers (already registered when this
 * runs, unless NEXT_MANUAL_SIG_HANDLE is set) close the HTTP server and exit at once, which would
 * cut the hand-back short: they are taken off and run once the worker has stopped.
 */
function stopWorkerFirst(handle: WorkerHandle, graceMs: number) {
  const deferred = new Map(SIGNALS.map((s) => [s, process.listeners(s)] as const));
  for (const [signal, listeners] of deferred) for (const l of listeners) process.off(signal, l);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`[batchboard] ${signal}: stopping the in-process worker (running jobs get ${graceMs} ms)`);
    void handle
      .stop(graceMs)
      .catch((err: Error) => console.error(`[batchboard] stopping the worker failed: ${err.message}`))
      .finally(() => {
        const next = deferred.get(signal as (typeof SIGNALS)[number]) ?? [];
        if (next.length === 0) process.exit(0);
        for (const l of next) l(signal);
        // Next.js waits for open connections (a dashboard's event stream) before it exits
        setTimeout(() => process.exit(0), 5000).unref();
      });
  };
  for (const s of SIGNALS) process.on(s, stop);
}
