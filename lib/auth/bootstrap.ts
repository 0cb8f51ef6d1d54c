// First start with auth on: when no API key exists and no BATCHBOARD_ADMIN_TOKEN is set, create an
// admin key and print a one-time sign-in URL, so the person who started the server can get in.
import { getConfig } from "@/lib/config";
import { getPool } from "@/lib/db/client";
import { authEnabled } from "./authorize";
import { createApiKey } from "./keys";
import { createSignInToken } from "./session";

export async function ensureAdminAccess(baseUrl: string, log: (line: string) => void = console.log): Promise<void> {
  if (!authEnabled() || getConfig().BATCHBOARD_ADMIN_TOKEN) return;
  const client = await getPool().connect();
  let created: { key: string; token: string } | null = null;
  try {
    await client.query("BEGIN");
    // two processes starting together must not both create the first key
    await client.query("SELECT pg_advisory_xact_lock(hashtext('batchboard:bootstrap-admin'))");
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM api_keys WHERE revoked_at IS NULL`);
    if (rows[0]!.n === 0) {
      // on the locked transaction's own connection: never a second one while holding it
      const { key, info } = await createApiKey({ name: "initial admin", scopes: ["admin"] }, client);
      created = { key, token: await createSignInToken(info.id, undefined, client) };
    }
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
  if (created) {
    log("No API key existed: created an admin key.");
    log(`  Admin API key (shown once, store it): ${created.key}`);
    log(`  One-time dashboard sign-in (valid 24 h): ${baseUrl}/api/auth/one-time?token=${created.token}`);
  }
}
