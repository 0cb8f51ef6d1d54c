// Failed authentication per client address (lib/auth/client-address.ts): wrong API keys, sign-ins
// and one-time links are counted in a fixed window in the auth_failures table, shared by every
// server process on the database. Past BATCHBOARD_AUTH_FAILURE_LIMIT the address is answered 429
// before any key is checked, until its window ends; successes do not reset the count.
import { getConfig } from "@/lib/config";
import { getPool } from "@/lib/db/client";
import { countAuthFailure, deleteEndedAuthWindows, throttleRemainingMs } from "@/lib/db/sql/auth";
import { AppError } from "@/lib/errors";

/** Refuses (429) an address over its failure limit, before the caller checks a credential. */
export async function assertNotThrottled(address: string): Promise<void> {
  const { BATCHBOARD_AUTH_FAILURE_LIMIT: limit, BATCHBOARD_AUTH_FAILURE_WINDOW_MS: windowMs } = getConfig();
  const remainingMs = await throttleRemainingMs(getPool(), address, windowMs, limit);
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
  await countAuthFailure(pool, address, windowMs);
  // ended windows go as failures come: the table stays the size of the addresses failing now
  await deleteEndedAuthWindows(pool, windowMs);
}

/** Runs `check` (a credential check answering null or false on failure) under the throttle for `address`. */
export async function throttled<T>(address: string, check: () => Promise<T>): Promise<T> {
  await assertNotThrottled(address);
  const result = await check();
  if (result === null || result === false) await recordAuthFailure(address);
  return result;
}
