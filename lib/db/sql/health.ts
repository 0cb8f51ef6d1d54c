// /api/health's question to the database.
import type { Queryable } from "./queryable";

/** Resolves once the database has answered a trivial query. */
export async function ping(db: Queryable): Promise<void> {
  await db.query("SELECT 1");
}
