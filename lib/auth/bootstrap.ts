// First start with auth on: when no API key exists and no BATCHBOARD_ADMIN_TOKEN is set, create an
// admin key and print a one-time sign-in URL, so the person who started the server can get in.
import { getConfig } from "@/lib/config";
import { transaction } from "@/lib/db/client";
import { lockAdminBootstrap } from "@/lib/db/sql/auth";
import { authEnabled } from "./authorize";
import { countActiveKeys, createApiKey } from "./keys";
import { createSignInToken } from "./session";

export async function ensureAdminAccess(baseUrl: string, log: (line: string) => void = console.log): Promise<void> {
  if (!authEnabled() || getConfig().BATCHBOARD_ADMIN_TOKEN) return;
  const created = await transaction(async (tx) => {
    // two processes starting together must not both create the first key
    await lockAdminBootstrap(tx);
    if ((await countActiveKeys(tx)) > 0) return null;
    // on the locked transaction's own connection: never a second one while holding it
    const { key, info } = await createApiKey({ name: "initial admin", scopes: ["admin"] }, tx);
    return { key, token: await createSignInToken(info.id, undefined, tx) };
  });
  if (created) {
    log("No API key existed: created an admin key.");
    log(`  Admin API key (shown once, store it): ${created.key}`);
    log(`  One-time dashboard sign-in (valid 24 h): ${baseUrl}/api/auth/one-time?token=${created.token}`);
  }
}
