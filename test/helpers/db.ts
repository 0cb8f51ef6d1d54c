// Each test file works in its own database, cloned from the migrated template (test/global-setup.ts).
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, inject } from "vitest";
import { closeDb, getPool } from "@/lib/db/client";
import { migrate, readMigrations } from "@/lib/db/migrate";

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, name: string) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export function adminUrl() {
  return inject("adminDatabaseUrl");
}

/** A new database. `migrated: false` gives an empty one (for migration tests). */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const admin = inject("adminDatabaseUrl");
  const name = `t_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    const template = options.migrated === false ? "template0" : inject("templateDatabase");
    await client.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  } finally {
    await client.end();
  }
  return {
    name,
    url: withDatabase(admin, name),
    drop: async () => {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * Gives the calling test file a migrated database of its own and points DATABASE_URL (and so
 * lib/db/client) at it. Returns a getter, since the database exists only once beforeAll has run.
 */
export function useTestDatabase(): () => TestDatabase {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    process.env.DATABASE_URL = db.url;
  });
  afterAll(async () => {
    await closeDb();
    await db?.drop();
  });
  return () => {
    if (!db) throw new Error("useTestDatabase(): the database is created in beforeAll");
    return db;
  };
}

/**
 * Like useTestDatabase, but migrated only up to `migration` (the migrations named before it), for a
 * test that fills it as an older release left it and then upgrades across `migration`.
 */
export function useDatabaseBefore(migration: string): () => TestDatabase {
  let db: TestDatabase | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
    dir = await mkdtemp(path.join(os.tmpdir(), "migrations-before-"));
    for (const m of await readMigrations()) {
      if (m.name < migration) await cp(path.join("prisma/migrations", m.name), path.join(dir, m.name), { recursive: true });
    }
    await migrate(db.url, { dir });
    process.env.DATABASE_URL = db.url;
  });
  afterAll(async () => {
    await closeDb();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return () => {
    if (!db) throw new Error("useDatabaseBefore(): the database is created in beforeAll");
    return db;
  };
}

/**
 * The database's clock now. Read after a write has returned, it is later than that write's commit,
 * so `started_at > dbNow()` counts only what began after the write was visible.
 */
export async function dbNow(): Promise<Date> {
  const { rows } = await getPool().query<{ now: Date }>(`SELECT clock_timestamp() AS now`);
  return rows[0]!.now;
}
