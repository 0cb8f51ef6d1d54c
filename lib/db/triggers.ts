// Bulk inserts whose foreign keys hold by construction (every row references one parent row the
// caller created or locked in the same transaction) need not pay PostgreSQL's per-row FK check (one
// `SELECT … FOR KEY SHARE` per row, ~40% of a large COPY). session_replication_role = replica turns
// row triggers (FK checks included) off for the transaction until switched back.
import type pg from "pg";

/**
 * Turns row triggers off in the caller's transaction and returns what turns them back on (call it
 * right after the bulk statement, so later statements keep their checks). Needs superuser (the
 * embedded server's user); without it, the checks simply stay on and the returned function is a no-op.
 */
export async function rowTriggersOff(client: pg.ClientBase): Promise<() => Promise<void>> {
  const keep = async () => {};
  const { rows } = await client.query<{ role: string }>("SELECT current_setting('session_replication_role') AS role");
  const role = rows[0]?.role;
  if (role === undefined || role === "replica") return keep;
  await client.query("SAVEPOINT row_triggers_off");
  try {
    await client.query("SET LOCAL session_replication_role = replica");
  } catch {
    await client.query("ROLLBACK TO SAVEPOINT row_triggers_off");
    return keep;
  } finally {
    await client.query("RELEASE SAVEPOINT row_triggers_off");
  }
  return async () => {
    await client.query("SELECT set_config('session_replication_role', $1, true)", [role]);
  };
}
