// Authentication's statements that Prisma Client cannot say: the bootstrap's advisory lock, and the
// failure throttle, whose window arithmetic runs on the database's clock (clock_timestamp(), so every
// server process counts on one clock) and whose upsert resets an ended window in the same statement.
import type { Prisma } from "@/lib/generated/prisma/client";
import type { Queryable } from "./queryable";

/** Serialises first-start bootstraps across processes, until the transaction `tx` ends. */
export async function lockAdminBootstrap(tx: Prisma.TransactionClient): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('batchboard:bootstrap-admin'))`;
}

/** Milliseconds until `address`'s window ends when it is at or over `limit` failures (<= 0 or none: not throttled). */
export async function throttleRemainingMs(db: Queryable, address: string, windowMs: number, limit: number): Promise<number> {
  const { rows } = await db.query<{ remaining_ms: number }>(
    `SELECT ceil(extract(epoch FROM window_started_at + make_interval(secs => $2::float8 / 1000) - clock_timestamp()) * 1000)::float8 AS remaining_ms
     FROM auth_failures WHERE address = $1 AND failures >= $3`,
    [address, windowMs, limit],
  );
  return rows[0]?.remaining_ms ?? 0;
}

/** Counts one failure for `address`, starting a new window when its last one ended. */
export async function countAuthFailure(db: Queryable, address: string, windowMs: number): Promise<void> {
  await db.query(
    `INSERT INTO auth_failures AS f (address, window_started_at, failures) VALUES ($1, clock_timestamp(), 1)
     ON CONFLICT (address) DO UPDATE SET
       failures = CASE WHEN f.window_started_at + make_interval(secs => $2::float8 / 1000) <= clock_timestamp() THEN 1 ELSE f.failures + 1 END,
       window_started_at = CASE WHEN f.window_started_at + make_interval(secs => $2::float8 / 1000) <= clock_timestamp() THEN clock_timestamp() ELSE f.window_started_at END`,
    [address, windowMs],
  );
}

/** Deletes the ended windows no other process is deleting now. */
export async function deleteEndedAuthWindows(db: Queryable, windowMs: number): Promise<void> {
  await db.query(
    `DELETE FROM auth_failures WHERE address IN (
       SELECT address FROM auth_failures WHERE window_started_at + make_interval(secs => $1::float8 / 1000) < clock_timestamp()
       FOR UPDATE SKIP LOCKED)`,
    [windowMs],
  );
}
