// Transactions on the shared pool, retried on the two errors PostgreSQL asks callers to retry
// (deadlock, serialization failure): a cancel racing a completion may deadlock, and must not fail.
import type pg from "pg";
import { getPool } from "./client";
import { databaseErrorOf } from "./errors";

const RETRYABLE = new Set(["40P01", "40001"]);

/** Runs `fn` again after a deadlock or serialization failure, up to `attempts` times in all. */
export async function retryOnDeadlock<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const code = databaseErrorOf(err)?.code;
      if (attempt < attempts && code && RETRYABLE.has(code)) continue;
      throw err;
    }
  }
}

/**
 * Runs `fn` in one transaction. `attempts` > 1 re-runs it after a deadlock or serialization
 * failure, so `fn` must then be safe to run again (not, say, a consumed upload stream).
 */
export function withTx<T>(fn: (client: pg.PoolClient) => Promise<T>, attempts = 5): Promise<T> {
  return retryOnDeadlock(() => inTransaction(fn), attempts);
}

async function inTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await getPool().connect();
  // a connection dropped mid-transaction rejects the query below; without a listener the same
  // failure would also be emitted as an 'error' event and crash the process
  const onError = () => {};
  client.on("error", onError);
  try {
    await client.query("BEGIN");
    const out = await fn(client);
    await client.query("COMMIT");
    return out;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.off("error", onError);
    client.release();
  }
}

/**
 * Runs `fn` in one REPEATABLE READ READ ONLY transaction, rolled back at the end: every read of `fn`
 * sees one snapshot (a running batch's figures agree with each other).
 */
export async function inReadOnlySnapshot<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await getPool().connect();
  const onError = () => {};
  client.on("error", onError);
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    try {
      return await fn(client);
    } finally {
      await client.query("ROLLBACK").catch(() => {});
    }
  } finally {
    client.off("error", onError);
    client.release();
  }
}

/** Runs `fn` in a transaction on `client` (a connection the caller holds, e.g. from the import pool). */
export async function inTransactionOn<T>(client: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  await client.query("BEGIN");
  try {
    const out = await fn();
    await client.query("COMMIT");
    return out;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  }
}
