// Applies prisma/migrations/<name>/migration.sql at start-up, because Prisma's own migration engine
// does not run here as it is (docs/operations.md#migrations says why).
// Each migration runs in its own transaction under a session advisory lock, so processes that
// start together apply it exactly once, and is recorded in `_prisma_migrations` with Prisma's own
// columns and checksum (sha256 of the file), so `prisma migrate status` agrees where it can run.
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import type { Queryable } from "./sql/queryable";

/** pg_advisory_lock key: the first 8 bytes of sha256("batchboard:migrations"), as a signed bigint */
const LOCK_KEY = createHash("sha256").update("batchboard:migrations").digest().readBigInt64BE(0).toString();

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationResult {
  applied: string[];
  /** the newest migration recorded in the database after this run */
  current: string | null;
}

export class MigrationError extends Error {
  override name = "MigrationError";
}

export function defaultMigrationsDir(): string {
  return path.join(/*turbopackIgnore: true*/ process.cwd(), "prisma", "migrations");
}

export async function readMigrations(dir = defaultMigrationsDir()): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const migrations: Migration[] = [];
  for (const name of names) {
    const buf = await readFile(path.join(dir, name, "migration.sql"));
    migrations.push({ name, sql: buf.toString("utf8"), checksum: createHash("sha256").update(buf).digest("hex") });
  }
  return migrations;
}

const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
}

/** Applies every pending migration to the database at `databaseUrl`. Safe to call from many processes at once. */
export async function migrate(
  databaseUrl: string,
  options: { dir?: string; log?: (line: string) => void } = {},
): Promise<MigrationResult> {
  const log = options.log ?? (() => {});
  const migrations = await readMigrations(options.dir);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1::bigint)", [LOCK_KEY]);
    try {
      await client.query(CREATE_MIGRATIONS_TABLE);
      const { rows } = await client.query<AppliedRow>(
        `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations"
         WHERE rolled_back_at IS NULL ORDER BY started_at, migration_name`,
      );
      const known = new Map(migrations.map((m) => [m.name, m]));
      const done = new Set<string>();
      for (const row of rows) {
        if (row.finished_at === null) {
          throw new MigrationError(
            `Migration ${row.migration_name} started but never finished (a failed run of another tool?). ` +
              `Resolve it by hand, then mark it rolled back in _prisma_migrations.`,
          );
        }
        const local = known.get(row.migration_name);
        if (!local) {
          log(`warning: migration ${row.migration_name} is recorded in the database but missing from ${options.dir ?? "prisma/migrations"}`);
        } else if (local.checksum !== row.checksum) {
          throw new MigrationError(
            `Migration ${row.migration_name} was modified after it was applied ` +
              `(checksum ${row.checksum.slice(0, 12)}… in the database, ${local.checksum.slice(0, 12)}… on disk). ` +
              `Never edit an applied migration: restore the file and add a new migration instead.`,
          );
        }
        done.add(row.migration_name);
      }

      const applied: string[] = [];
      for (const m of migrations) {
        if (done.has(m.name)) continue;
        log(`applying migration ${m.name}`);
        await client.query("BEGIN");
        try {
          const id = randomUUID();
          await client.query(
            `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())`,
            [id, m.checksum, m.name],
          );
          await client.query(m.sql);
          await client.query(
            `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`,
            [id],
          );
          await client.query("COMMIT");
        } catch (err) {
          await client.query("ROLLBACK").catch(() => {});
          throw new MigrationError(`Migration ${m.name} failed and was rolled back: ${(err as Error).message}`);
        }
        applied.push(m.name);
      }
      const current = migrations.length ? migrations[migrations.length - 1]!.name : null;
      return { applied, current: done.size || applied.length ? current : null };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1::bigint)", [LOCK_KEY]).catch(() => {});
    }
  } finally {
    await client.end();
  }
}

/** The newest applied migration, or null: what /api/health reports. */
export async function currentMigration(db: Queryable): Promise<string | null> {
  try {
    const { rows } = await db.query<{ migration_name: string }>(
      `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL
       ORDER BY migration_name DESC LIMIT 1`,
    );
    return rows[0]?.migration_name ?? null;
  } catch {
    return null;
  }
}
