// Makes sure a database is there and migrated before anything uses it: starts the embedded
// PostgreSQL when DATABASE_URL is unset, then applies pending migrations.
import path from "node:path";
import { getConfig } from "@/lib/config";
import { startEmbeddedPostgres, type EmbeddedOptions, type EmbeddedServer } from "./embedded";
import { migrate, type MigrationResult } from "./migrate";

export interface ReadyDatabase {
  url: string;
  embedded: EmbeddedServer | null;
  migrations: MigrationResult;
}

export async function ensureDatabase(
  log: (line: string) => void = console.log,
  embeddedOptions: Pick<EmbeddedOptions, "detached" | "adopt"> = {},
): Promise<ReadyDatabase> {
  const config = getConfig();
  let embedded: EmbeddedServer | null = null;
  let url = config.DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres({ dataDir: path.resolve(config.BATCHBOARD_DATA_DIR), log, ...embeddedOptions });
    url = embedded.url;
    process.env.DATABASE_URL = url;
    log(`embedded PostgreSQL on port ${embedded.port} (data in ${config.BATCHBOARD_DATA_DIR}/pg)`);
  }
  try {
    const migrations = await migrate(url, { log });
    return { url, embedded, migrations };
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
}
