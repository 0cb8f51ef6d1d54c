// A throwaway embedded PostgreSQL for fault injection: migrated, restartable on the SAME port (so
// running workers can reconnect to the URL they were given), removed on close.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { startEmbeddedPostgres, type EmbeddedServer } from "@/lib/db/embedded";
import { migrate } from "@/lib/db/migrate";

/** application_name of the harness's own connections: fault injection never terminates these */
export const HARNESS_APP = "chaos-harness";

export interface ChaosCluster {
  /** the database the workers use */
  url: string;
  /** the same database, tagged as the harness's own connections */
  harnessUrl: string;
  adminUrl: string;
  port: number;
  /** fast shutdown (clients are disconnected), down for `downMs`, then up again on the same port */
  restart(downMs: number): Promise<void>;
  /** terminates every client connection to the database except the harness's; returns how many */
  terminateClients(): Promise<number>;
  close(): Promise<void>;
}

// a throwaway cluster: durability off (a fast shutdown still checkpoints), room for many connections
const SETTINGS = { fsync: "off", synchronous_commit: "off", full_page_writes: "off", max_connections: "200" };

export async function startChaosCluster(log: (line: string) => void = () => {}): Promise<ChaosCluster> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "batchboard-chaos-"));
  let server: EmbeddedServer | null = await startEmbeddedPostgres({ dataDir, settings: SETTINGS, log });
  const { url, adminUrl, port } = server;
  await migrate(url, { log });
  const harness = new URL(url);
  harness.searchParams.set("application_name", HARNESS_APP);
  const dbName = decodeURIComponent(new URL(url).pathname.slice(1));

  return {
    url,
    harnessUrl: harness.toString(),
    adminUrl,
    port,
    async restart(downMs) {
      await server?.stop();
      server = null;
      await new Promise((r) => setTimeout(r, downMs));
      server = await startEmbeddedPostgres({ dataDir, settings: SETTINGS, port, log });
    },
    async terminateClients() {
      const admin = new pg.Client({ connectionString: adminUrl, application_name: HARNESS_APP });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ n: number }>(
          `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
           WHERE datname = $1 AND backend_type = 'client backend' AND application_name <> $2 AND pid <> pg_backend_pid()`,
          [dbName, HARNESS_APP],
        );
        return rows[0]?.n ?? 0;
      } finally {
        await admin.end().catch(() => {});
      }
    },
    async close() {
      await server?.stop();
      server = null;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
