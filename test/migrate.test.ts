import { spawn } from "node:child_process";
import { cp, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { migrate, readMigrations } from "@/lib/db/migrate";
import { createTestDatabase, type TestDatabase } from "./helpers/db";

function runMigrateProcess(url: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["node_modules/tsx/dist/cli.mjs", "scripts/migrate.ts"], {
      env: { ...process.env, DATABASE_URL: url },
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("exit", (code) => resolve({ code, output }));
  });
}

async function recorded(url: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }>(
      `SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name`,
    );
    return rows;
  } finally {
    await c.end();
  }
}

describe("migrations applied at start-up", () => {
  const dbs: TestDatabase[] = [];
  afterEach(async () => {
    await Promise.all(dbs.splice(0).map((d) => d.drop()));
  });

  it("two processes starting together on a new database apply each migration exactly once", async () => {
    const db = await createTestDatabase({ migrated: false });
    dbs.push(db);
    const [a, b] = await Promise.all([runMigrateProcess(db.url), runMigrateProcess(db.url)]);
    expect(a.code, a.output).toBe(0);
    expect(b.code, b.output).toBe(0);
    const applied = [a.output, b.output].join("\n").match(/applying migration \S+/g) ?? [];
    const migrations = await readMigrations();
    expect(applied.length).toBe(migrations.length);
    const rows = await recorded(db.url);
    expect(rows.map((r) => r.migration_name)).toEqual(migrations.map((m) => m.name));
    for (const [i, row] of rows.entries()) {
      expect(row.checksum).toBe(migrations[i]!.checksum);
      expect(row.finished_at).not.toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it("is a no-op when everything is applied", async () => {
    const db = await createTestDatabase({ migrated: false });
    dbs.push(db);
    expect((await migrate(db.url)).applied.length).toBeGreaterThan(0);
    const again = await migrate(db.url);
    expect(again.applied).toEqual([]);
    expect(again.current).toBe((await readMigrations()).at(-1)!.name);
  });

  it("refuses loudly when an applied migration's file has changed", async () => {
    const db = await createTestDatabase({ migrated: false });
    dbs.push(db);
    const dir = await mkdtemp(path.join(os.tmpdir(), "migrations-"));
    await cp("prisma/migrations", dir, { recursive: true });
    await migrate(db.url, { dir });
    const first = (await readMigrations(dir))[0]!;
    await writeFile(path.join(dir, first.name, "migration.sql"), `${first.sql}\n-- edited afterwards\n`);
    await expect(migrate(db.url, { dir })).rejects.toThrow(/was modified after it was applied/);
  });

  it("rolls a failing migration back whole and records nothing for it", async () => {
    const db = await createTestDatabase({ migrated: false });
    dbs.push(db);
    const dir = await mkdtemp(path.join(os.tmpdir(), "migrations-"));
    await cp("prisma/migrations", dir, { recursive: true });
    await migrate(db.url, { dir });
    const bad = path.join(dir, "99999999999999_broken");
    await cp(path.join(dir, (await readMigrations(dir))[0]!.name), bad, { recursive: true });
    await writeFile(path.join(bad, "migration.sql"), `CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;\n`);
    await expect(migrate(db.url, { dir })).rejects.toThrow(/99999999999999_broken failed and was rolled back/);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const { rowCount } = await c.query(`SELECT 1 FROM pg_class WHERE relname = 'half_done'`);
    await c.end();
    expect(rowCount).toBe(0);
    expect((await recorded(db.url)).map((r) => r.migration_name)).not.toContain("99999999999999_broken");
  });
});
