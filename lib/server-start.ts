// What a Next.js server process starts besides serving requests (called from instrumentation.ts).
import { getConfig } from "@/lib/config";
import { migrate } from "@/lib/db/migrate";

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
    const { startWorker } = await import("@/lib/engine");
    const handle = await startWorker({ mode: "in-process" });
    // graceful: stop claiming, let running jobs finish, release the rest; then let the server exit
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      console.log(`[batchboard] ${signal}: stopping the in-process worker`);
      void handle.stop(Number(process.env.BATCHBOARD_SHUTDOWN_GRACE_MS ?? 10_000)).finally(() => process.exit(0));
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  }
}
