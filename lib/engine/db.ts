// The engine's database helpers: transactions (lib/db/tx.ts) and plain queries on the shared pool.
import type pg from "pg";
import { getPool } from "@/lib/db/client";

export { withTx } from "@/lib/db/tx";

export function query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = []) {
  return getPool().query<R>(sql, params);
}
