// Imports on a PostgreSQL where the app's user is not a superuser (a managed database): the
// replica-mode shortcut is refused there, and imports must work the ordinary way.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb } from "@/lib/db/client";
import { AppError } from "@/lib/errors";
import { importDataset, listRecords } from "@/lib/datasets";
import { useTestDatabase } from "../helpers/db";

describe("imports as a non-superuser", () => {
  const db = useTestDatabase();
  const role = `bb_plain_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(12).toString("hex");

  async function asOwner(sql: string) {
    const c = new pg.Client({ connectionString: db().url });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  }

  beforeAll(async () => {
    await asOwner(`CREATE ROLE ${role} LOGIN NOSUPERUSER PASSWORD '${password}'`);
    await asOwner(`GRANT USAGE ON SCHEMA public TO ${role}; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`);
    await closeDb();
    const url = new URL(db().url);
    url.username = role;
    url.password = password;
    process.env.DATABASE_URL = url.toString();
  });

  afterAll(async () => {
    await closeDb();
    process.env.DATABASE_URL = db().url;
    await asOwner(`DROP OWNED BY ${role}; DROP ROLE ${role}`);
  });

  it("imports, and still refuses duplicates and malformed lines whole", async () => {
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await c.connect();
    const { rows } = await c.query("SELECT rolsuper FROM pg_roles WHERE rolname = current_user");
    await c.end();
    expect(rows[0].rolsuper).toBe(false);

    const ds = await importDataset({ name: "plain", format: "jsonl", body: '{"id":"a"}\n{"id":"b"}\n' });
    expect((await listRecords(ds.id, { limit: 10 })).items.map((r) => r.recordId)).toEqual(["a", "b"]);
    const dup = await importDataset({ name: "plain-dup", format: "jsonl", body: '{"id":"a"}\n{"id":"a"}\n' }).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(AppError);
    expect((dup as AppError).details[0]?.path).toBe("line 2");
  });
});
