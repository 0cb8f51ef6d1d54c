// One pg pool and one Prisma client per process, kept on globalThis so Next.js dev reloads reuse
// them. Prisma serves the ordinary reads and writes; lib/engine uses the same pool directly for the
// few hot statements (claim, complete) where one round trip for many jobs matters.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "@/lib/generated/prisma/client";

// BIGINT (int8) and NUMERIC come back as strings by default; our bigints are counts and ids that fit.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

interface DbGlobals {
  pool?: pg.Pool;
  prisma?: PrismaClient;
}
const g = globalThis as typeof globalThis & { __batchboardDb?: DbGlobals };
const state: DbGlobals = (g.__batchboardDb ??= {});

export function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) {
    throw new Error(
      "DATABASE_URL is not set. Start Batchboard with `npm start` (which runs an embedded PostgreSQL), or set DATABASE_URL.",
    );
  }
  return url;
}

export function getPool(): pg.Pool {
  if (!state.pool) {
    state.pool = new pg.Pool({
      connectionString: databaseUrl(),
      max: Number(process.env.BATCHBOARD_DB_POOL_SIZE ?? 10),
      idleTimeoutMillis: 30_000,
    });
    // a dropped idle connection (database restart) must not crash the process; queries report their own errors
    state.pool.on("error", (err) => console.error(`[db] idle connection error: ${err.message}`));
  }
  return state.pool;
}

export function getPrisma(): PrismaClient {
  state.prisma ??= new PrismaClient({ adapter: new PrismaPg(getPool()) });
  return state.prisma;
}

/** Closes this process's pool (scripts, tests, graceful shutdown). */
export async function closeDb(): Promise<void> {
  const { prisma, pool } = state;
  state.prisma = undefined;
  state.pool = undefined;
  await prisma?.$disconnect().catch(() => {});
  await pool?.end().catch(() => {});
}
