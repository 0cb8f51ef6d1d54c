// `npm run worker`: a standalone worker process for more machines against the same PostgreSQL.
// Needs DATABASE_URL (the embedded database belongs to `npm start`); applies pending migrations,
// then works until SIGTERM/SIGINT (to it or to its process group, as a terminal's Ctrl-C), when it
// stops claiming, hands back its reservations, lets running jobs finish within the grace period
// (BATCHBOARD_SHUTDOWN_GRACE_MS, default 10 s) and hands back the rest, none counted as an attempt.
import { getConfig } from "@/lib/config";
import { closeDb, setWorkerRole } from "@/lib/db/client";
import { migrate } from "@/lib/db/migrate";
import { startWorker } from "@/lib/worker/worker";

const log = (line: string) => console.log(`[worker] ${line}`);

async function main() {
  const config = getConfig();
  if (!config.DATABASE_URL) {
    console.error("[worker] DATABASE_URL is not set: a standalone worker joins an existing Batchboard database.");
    process.exit(2);
  }
  // its pool gets the worker's session timeouts (docs/operations.md)
  setWorkerRole();
  await migrate(config.DATABASE_URL, { log });
  const handle = await startWorker({ mode: "standalone", log });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    await handle.stop(config.BATCHBOARD_SHUTDOWN_GRACE_MS);
    await closeDb();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((err) => {
  console.error(`[worker] ${(err as Error).stack ?? err}`);
  process.exit(1);
});
