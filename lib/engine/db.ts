// Transactions on the shared pool, retried on the two errors PostgreSQL asks callers to retry
// (deadlock, serialization failure): a cancel racing a completion may deadlock, and must not fail.
import type pg from "pg";
import { getPool } from "@/lib/db/client";

const RETRYABLE = new Set(["40P01", "40001"]);

export async function withTx<T>(fn: (client: pg.PoolClient) => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
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
      const code = (err as { code?: string }).code;
      if (attempt < attempts && code && RETRYABLE.has(code)) continue;
      throw err;
    } finally {
      client.off("error", onError);
      client.release();
    }
  }
}

export function query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = []) {
  return getPool().query<R>(sql, params);
}
