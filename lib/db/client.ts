// The pg pools and the Prisma client of a process, kept on globalThis so Next.js dev reloads reuse
// them. Prisma serves the ordinary reads and writes; lib/engine uses the main pool directly for the
// few hot statements (claim, complete) where one round trip for many jobs matters.
//
// Two pools, each with session timeouts suited to its role (docs/operations.md):
//  - the main pool (getPool): API requests and the in-process worker in the Next.js server ("api"),
//    or everything a standalone worker does ("worker", set by scripts/worker.ts);
//  - the import pool (getImportPool): dataset uploads and large inline batches, whose COPYs may run
//    as long as an upload does, so they never take the connections requests and the worker need.
// A request never holds a connection of one while it waits for another (test/security/pool-discipline).
// /api/health has a connection of its own, so a busy main pool does not read as a dead database.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { getConfig } from "@/lib/config";
import { PrismaClient, type Prisma } from "@/lib/generated/prisma/client";

// BIGINT (int8) and NUMERIC come back as strings by default; our bigints are counts and ids that fit.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export type PoolRole = "api" | "worker" | "import" | "health";

interface DbGlobals {
  mainRole: "api" | "worker";
  pool?: pg.Pool;
  importPool?: pg.Pool;
  healthPool?: pg.Pool;
  prisma?: PrismaClient;
}
const g = globalThis as typeof globalThis & { __batchboardDb?: DbGlobals };
const state: DbGlobals = (g.__batchboardDb ??= { mainRole: "api" });

export function databaseUrl(): string {
  const url = getConfig().DATABASE_URL;
  if (!url) {
    throw new Error(
      "DATABASE_URL is not set. Start Batchboard with `npm start` (which runs an embedded PostgreSQL), or set DATABASE_URL.",
    );
  }
  return url;
}

/** How long /api/health waits for the database before answering 503. */
export const HEALTH_TIMEOUT_MS = 3_000;

/** A standalone worker process calls this before its first query: its main pool gets the worker's timeouts. */
export function setWorkerRole(): void {
  if (state.pool) throw new Error("setWorkerRole() must come before the first query");
  state.mainRole = "worker";
}

/** What each role's sessions are started with: statement_timeout, idle_in_transaction_session_timeout. */
export function poolSettings(role: PoolRole) {
  const c = getConfig();
  const statementTimeoutMs = {
    api: c.BATCHBOARD_DB_STATEMENT_TIMEOUT_MS,
    worker: c.BATCHBOARD_WORKER_STATEMENT_TIMEOUT_MS,
    import: c.BATCHBOARD_IMPORT_STATEMENT_TIMEOUT_MS,
    health: HEALTH_TIMEOUT_MS,
  }[role];
  const max = { api: c.BATCHBOARD_DB_POOL_SIZE, worker: c.BATCHBOARD_DB_POOL_SIZE, import: 2 * c.BATCHBOARD_IMPORT_CONCURRENCY, health: 1 }[role];
  return {
    max,
    connectTimeoutMs: role === "health" ? HEALTH_TIMEOUT_MS : c.BATCHBOARD_DB_CONNECT_TIMEOUT_MS,
    statementTimeoutMs,
    idleInTransactionMs: c.BATCHBOARD_DB_IDLE_IN_TRANSACTION_MS,
  };
}

function createPool(role: PoolRole): pg.Pool {
  const s = poolSettings(role);
  const pool = new pg.Pool({
    connectionString: databaseUrl(),
    max: s.max,
    idleTimeoutMillis: 30_000,
    // a request waits this long for a connection, then answers 503 (lib/db/errors.ts), never hangs
    connectionTimeoutMillis: s.connectTimeoutMs,
    application_name: `batchboard ${role}`,
    // sent as startup options (0 turns a timeout off even where the server's default sets one)
    options: `-c statement_timeout=${s.statementTimeoutMs} -c idle_in_transaction_session_timeout=${s.idleInTransactionMs}`,
  });
  // a dropped idle connection (database restart) must not crash the process; queries report their own errors
  pool.on("error", (err) => console.error(`[db] idle connection error (${role} pool): ${err.message}`));
  // nor one dropped while checked out between two queries (pg emits 'error' on the client then, and an
  // unlistened 'error' event ends the process); the holder's next query fails and reports it
  pool.on("connect", (client) => client.on("error", (err) => console.error(`[db] connection error (${role} pool): ${err.message}`)));
  return pool;
}

/** The process's main pool: API requests and the in-process worker, or a standalone worker. */
export function getPool(): pg.Pool {
  state.pool ??= createPool(state.mainRole);
  return state.pool;
}

/** The import pool: twice BATCHBOARD_IMPORT_CONCURRENCY connections, taken only through lib/db/imports.ts. */
export function getImportPool(): pg.Pool {
  state.importPool ??= createPool("import");
  return state.importPool;
}

/** One connection for /api/health alone. */
export function getHealthPool(): pg.Pool {
  state.healthPool ??= createPool("health");
  return state.healthPool;
}

/** How loaded a pool is: connections open, those in use, and callers waiting for one. */
export function poolLoad(pool: pg.Pool | undefined): { size: number; in_use: number; waiting: number } {
  if (!pool) return { size: 0, in_use: 0, waiting: 0 };
  return { size: pool.totalCount, in_use: pool.totalCount - pool.idleCount, waiting: pool.waitingCount };
}

/** The main and import pools, if this process has opened them (health, metrics). */
export function openPools(): { main?: pg.Pool; import?: pg.Pool } {
  return { main: state.pool, import: state.importPool };
}

/** The Prisma client or, inside `getPrisma().$transaction(async (tx) => ...)`, its transaction client. */
export type Db = PrismaClient | Prisma.TransactionClient;

/** Prisma on the main pool: the same connections as the hot SQL, never a pool of its own. */
export function getPrisma(): PrismaClient {
  state.prisma ??= new PrismaClient({ adapter: new PrismaPg(getPool()) });
  return state.prisma;
}

/**
 * One Prisma interactive transaction on one connection of the main pool. Its limits are the pool's
 * and the session's (connect timeout, statement_timeout, idle_in_transaction_session_timeout), not
 * Prisma's 2 s / 5 s defaults, which would cut off a long cascade delete and turn a busy pool into a
 * P2028 instead of the pool's own timeout (a 503).
 */
export function transaction<T>(fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
  const c = getConfig();
  return getPrisma().$transaction(fn, { maxWait: c.BATCHBOARD_DB_CONNECT_TIMEOUT_MS + 1_000, timeout: 24 * 3600_000 });
}

/** Closes this process's pools (scripts, tests, graceful shutdown). */
export async function closeDb(): Promise<void> {
  const { prisma, pool, importPool, healthPool } = state;
  state.prisma = undefined;
  state.pool = undefined;
  state.importPool = undefined;
  state.healthPool = undefined;
  await prisma?.$disconnect().catch(() => {});
  for (const p of [pool, importPool, healthPool]) await p?.end().catch(() => {});
}
