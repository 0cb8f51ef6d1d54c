// One PostgreSQL for the whole test run: the embedded server on a throwaway cluster, or the server
// named by TEST_DATABASE_URL (an admin URL; tests create and drop their own databases on it).
// A migrated template database is prepared once; each test file clones it (test/helpers/db.ts).
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres, type EmbeddedServer } from "@/lib/db/embedded";
import { migrate } from "@/lib/db/migrate";

declare module "vitest" {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    templateDatabase: string;
  }
}

const TEMPLATE = `batchboard_template_${process.pid}`;

export default async function setup(project: TestProject) {
  let server: EmbeddedServer | null = null;
  let tmp: string | null = null;
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    tmp = await mkdtemp(path.join(os.tmpdir(), "batchboard-test-"));
    server = await startEmbeddedPostgres({
      dataDir: tmp,
      database: "postgres",
      // a throwaway cluster: durability off, room for many parallel test files
      settings: { fsync: "off", synchronous_commit: "off", full_page_writes: "off", max_connections: "500" },
    });
    adminUrl = server.adminUrl;
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE}`);
  await admin.query(`CREATE DATABASE ${TEMPLATE}`);
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${TEMPLATE}`;
  await migrate(templateUrl.toString());
  await admin.end();

  project.provide("adminDatabaseUrl", adminUrl);
  project.provide("templateDatabase", TEMPLATE);

  return async () => {
    if (server) {
      await server.stop();
      if (tmp) await rm(tmp, { recursive: true, force: true });
    } else {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${TEMPLATE}`);
      await c.end();
    }
  };
}
