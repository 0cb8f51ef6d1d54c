// Dashboard sessions, kept on the server: the HttpOnly, SameSite=Lax cookie holds a random token and
// the sessions table its SHA-256, with the API key signed in with (or a hash of the
// BATCHBOARD_ADMIN_TOKEN used). Signing out deletes the row, revoking the key deletes its rows, and a
// session whose admin token has since changed is deleted when next presented: a replayed cookie of an
// ended session is refused. One-time sign-in links for the first start are single-use tokens stored
// hashed in the settings table.
import { randomBytes } from "node:crypto";
import { getPool, getPrisma, type Db } from "@/lib/db/client";
import { getConfig } from "@/lib/config";
import { ADMIN_TOKEN_ID, adminPrincipal, hashKey, safeEqual, scopesOf, type Principal } from "./keys";

export const SESSION_COOKIE = "bb_session";
export const SESSION_TTL_SECONDS = 7 * 24 * 3600;
const VALUE = /^v2\.[A-Za-z0-9_-]{43}$/;

/** Starts a session for a principal (an API key's id, or the admin token in force); returns the cookie value. */
export async function createSession(principalId: string): Promise<string> {
  const value = `v2.${randomBytes(32).toString("base64url")}`;
  const adminToken = principalId === ADMIN_TOKEN_ID ? getConfig().BATCHBOARD_ADMIN_TOKEN : undefined;
  if (principalId === ADMIN_TOKEN_ID && !adminToken) throw new Error("no BATCHBOARD_ADMIN_TOKEN to sign in with");
  const pool = getPool();
  // sessions past their time go as new ones come: the table stays the size of the live ones
  await pool.query(`DELETE FROM sessions WHERE expires_at < now()`);
  await pool.query(
    `INSERT INTO sessions (id, key_id, admin_token_hash, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
    [hashKey(value), adminToken ? null : principalId, adminToken ? hashKey(adminToken) : null, SESSION_TTL_SECONDS],
  );
  return value;
}

/** Who a session cookie stands for, or null when it is unknown, ended, expired, or its key was revoked. */
export async function readSession(value: string | undefined): Promise<Principal | null> {
  if (!value || !VALUE.test(value)) return null;
  const id = hashKey(value);
  const { rows } = await getPool().query<{ key_id: string | null; admin_token_hash: string | null; name: string | null; scopes: string[] | null }>(
    `SELECT s.key_id, s.admin_token_hash, k.name, k.scopes
     FROM sessions s LEFT JOIN api_keys k ON k.id = s.key_id AND k.revoked_at IS NULL
     WHERE s.id = $1 AND s.expires_at > now()`,
    [id],
  );
  const row = rows[0];
  if (!row) return null;
  if (row.key_id) return row.name === null ? null : { id: row.key_id, name: row.name, scopes: scopesOf(row.scopes), via: "session" };
  const adminToken = getConfig().BATCHBOARD_ADMIN_TOKEN;
  if (adminToken && row.admin_token_hash && safeEqual(hashKey(adminToken), row.admin_token_hash)) return adminPrincipal("session");
  // signed in with an admin token no longer in force: over for good, even if that token comes back
  await getPool().query(`DELETE FROM sessions WHERE id = $1`, [id]);
  return null;
}

/** Ends the session a cookie names (signing out); a no-op for an unknown one. */
export async function endSession(value: string | undefined): Promise<void> {
  if (!value || !VALUE.test(value)) return;
  await getPool().query(`DELETE FROM sessions WHERE id = $1`, [hashKey(value)]);
}

export function sessionCookie(value: string, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    `Max-Age=${SESSION_TTL_SECONDS}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;
}

export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get("cookie");
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** A single-use sign-in token for `principalId`, valid for `ttlSeconds`. */
export async function createSignInToken(principalId: string, ttlSeconds = 24 * 3600, db: Db = getPrisma()): Promise<string> {
  const token = randomBytes(24).toString("base64url");
  await db.setting.create({ data: { key: `signin:${hashKey(token)}`, value: `${principalId}|${Math.floor(Date.now() / 1000) + ttlSeconds}` } });
  return token;
}

/** Consumes a sign-in token: the principal id, once; null when unknown, used or expired. */
export async function consumeSignInToken(token: string): Promise<string | null> {
  const { rows } = await getPool().query<{ value: string }>(`DELETE FROM settings WHERE key = $1 RETURNING value`, [
    `signin:${hashKey(token)}`,
  ]);
  const value = rows[0]?.value;
  if (!value) return null;
  const [id, exp] = value.split("|");
  return id && Number(exp) * 1000 >= Date.now() ? id : null;
}
