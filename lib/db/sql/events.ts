// LISTEN/NOTIFY for engine events (lib/engine/events.ts): Prisma Client has neither.
import type { Queryable } from "./queryable";

/** Starts listening on `channel` (a fixed identifier of ours, not input) on the connection `db`. */
export async function listen(db: Queryable, channel: string): Promise<void> {
  await db.query(`LISTEN ${channel}`);
}

/** Sends `payload` to every process listening on `channel`. */
export async function notify(db: Queryable, channel: string, payload: string): Promise<void> {
  await db.query("SELECT pg_notify($1, $2)", [channel, payload]);
}
