// Failed authentication per client address (lib/auth/client-address.ts): wrong API keys, sign-ins
// and one-time links are counted in a fixed window in the auth_failures table, shared by every
// server process on the database. Past BATCHBOARD_AUTH_FAILURE_LIMIT the address is answered 429
// before any key is checked, until its window ends; successes do not reset the count.
import { getConfig } from "@/lib/config";
import { getPool } from "@/lib/db/client";
import { AppError } from "@/lib/errors";

/** Refuses (429) an address over its failure limit, before the caller checks a credential. */
export async function assertNotThrottled(address: string): Promise<void> {
  const { BATCHBOARD_AUTH_FAILURE_LIMIT: limit, BATCHBOARD_AUTH_FAILURE_WINDOW_MS: windowMs } = getConfig();
  const { rows } = await getPool().query<{ remaining_ms: number }>(
    `SELECT ceil(extract(epoch FROM window_started_at + make_interval(secs => $2::float8 / 1000) - clock_timestamp()) * 1000)::float8 AS remaining_ms
     FROM auth_failures WHERE address = $1 AND failures >= $3`,
    [address, windowMs, limit],
  );
  const remainingMs = rows[0]?.remaining_ms ?? 0;
  if (remainingMs <= 0) return;
  const retryAfter = Math.max(1, Math.ceil(remainingMs / 1000));
  throw new AppError("rate_limited", `too many failed sign-ins or API keys from this address: retry in ${retryAfter}s`, [], {
    "Retry-After": String(retryAfter),
  });
}

/** Counts one failed authentication for `address`, starting a new window when the last one ended. */
export async function recordAuthFailure(address: string): Promise<void> {
  const windowMs = getConfig().BATCHBOARD_AUTH_FAILURE_WINDOW_MS;
  const pool = getPool();
  await pool.query(
    `INSERT INTO auth_failures AS f (address, window_started_at, failures) VALUES ($1, clock_timestamp(), 1)
     ON CONFLICT (address) DO UPDATE SET
       failures = CASE WHEN f.window_started_at + make_interval(secs => $2::float8 / 1000) <= clock_timestamp() THEN 1 ELSE f.failures + 1 END,
       window_started_at = CASE WHEN f.window_started_at + make_interval(secs => $2::float8 / 1000) <= clock_timestamp() THEN clock_timestamp() ELSE f.window_started_at END`,
    [address, windowMs],
  );
  // ended windows go as failures come: the table stays the size of the addresses failing now
  await pool.query(
    `DELETE FROM auth_failures WHERE address IN (
       SELECT address FROM auth_failures WHERE window_started_at + make_interval(secs => $1::float8 / 1000) < clock_timestamp()
       FOR UPDATE SKIP LOCKED)`,
    [windowMs],
  );
}

/** Runs `check` (a credential check answering null or false on failure) under the throttle for `address`. */
export async function throttled<T>(address: string, check: () => Promise<T>): Promise<T> {
  await assertNotThrottled(address);
  const result = await check();
  if (result === null || result === false) await recordAuthFailure(address);
  return result;
}
