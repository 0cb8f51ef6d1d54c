// One throwaway embedded PostgreSQL for the whole run: every system gets its own database on it.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { startEmbeddedPostgres, type EmbeddedServer } from "@/lib/db/embedded";

export interface BenchServer {
  server: EmbeddedServer;
  dataDir: string;
  settings: Record<string, string>;
  urlFor(database: string): string;
  createDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  describe(): Promise<{ version: string; settings: Record<string, string> }>;
  stop(): Promise<void>;
}

/**
 * The same settings for every system. synchronous_commit=off unless `durable`: commits then cost
 * no WAL flush each, so the figures measure the systems rather than this machine's disk (which
 * other processes share); a crash could lose the last few hundred ms of commits, never corrupt.
 */
export function serverSettings(opts: { durable: boolean; profile: boolean }): Record<string, string> {
  return {
    shared_buffers: "512MB",
    max_connections: "300",
    work_mem: "16MB",
    maintenance_work_mem: "256MB",
    max_wal_size: "4GB",
    checkpoint_timeout: "30min",
    synchronous_commit: opts.durable ? "on" : "off",
    ...(opts.profile ? { shared_preload_libraries: "pg_stat_statements", "pg_stat_statements.track": "all", "pg_stat_statements.track_planning": "on" } : {}),
  };
}

export async function startBenchServer(opts: { durable: boolean; profile: boolean }): Promise<BenchServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "batchboard-bench-"));
  const settings = serverSettings(opts);
  const server = await startEmbeddedPostgres({ dataDir, database: "bench", settings });
  const base = new URL(server.adminUrl);
  const urlFor = (database: string) => {
    const u = new URL(base);
    u.pathname = `/${database}`;
    return u.toString();
  };
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>) => {
    const c = new pg.Client({ connectionString: server.adminUrl });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
  return {
    server,
    dataDir,
    settings,
    urlFor,
    async createDatabase(name) {
      await admin(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`);
        await c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`);
      });
      return urlFor(name);
    },
    async dropDatabase(name) {
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`));
    },
    async describe() {
      return admin(async (c) => {
        const v = await c.query<{ v: string }>("SELECT version() AS v");
        const names = [...Object.keys(settings), "fsync", "wal_level", "effective_cache_size", "random_page_cost", "jit"];
        const s = await c.query<{ name: string; setting: string; unit: string | null }>(
          "SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1) ORDER BY name",
          [names],
        );
        return {
          version: v.rows[0]!.v,
          settings: Object.fromEntries(s.rows.map((r) => [r.name, r.unit ? `${r.setting} (${r.unit})` : r.setting])),
        };
      });
    },
    async stop() {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
