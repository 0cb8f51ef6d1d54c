// Dashboard sessions, kept on the server: the HttpOnly, SameSite=Lax cookie holds a random token and
// the sessions table its SHA-256, with the API key signed in with (or a hash of the
// BATCHBOARD_ADMIN_TOKEN used). Signing out deletes the row, revoking the key deletes its rows, and a
// session whose admin token has since changed is deleted when next presented: a replayed cookie of an
// ended session is refused. One-time sign-in links for the first start are single-use tokens stored
// hashed in the settings table.
import { randomBytes } from "node:crypto";
import { getPrisma, type Db } from "@/lib/db/client";
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
  const prisma = getPrisma();
  const now = Date.now();
  // sessions past their time go as new ones come: the table stays the size of the live ones
  await prisma.session.deleteMany({ where: { expiresAt: { lt: new Date(now) } } });
  await prisma.session.create({
    data: {
      id: hashKey(value),
      keyId: adminToken ? null : principalId,
      adminTokenHash: adminToken ? hashKey(adminToken) : null,
      expiresAt: new Date(now + SESSION_TTL_SECONDS * 1000),
    },
  });
  return value;
}

/** Who a session cookie stands for, or null when it is unknown, ended, expired, or its key was revoked. */
export async function readSession(value: string | undefined): Promise<Principal | null> {
  if (!value || !VALUE.test(value)) return null;
  const id = hashKey(value);
  const prisma = getPrisma();
  const row = await prisma.session.findUnique({ where: { id }, include: { key: { select: { name: true, scopes: true, revokedAt: true } } } });
  if (!row || row.expiresAt.getTime() <= Date.now()) return null;
  if (row.keyId) return !row.key || row.key.revokedAt ? null : { id: row.keyId, name: row.key.name, scopes: scopesOf(row.key.scopes), via: "session" };
  const adminToken = getConfig().BATCHBOARD_ADMIN_TOKEN;
  if (adminToken && row.adminTokenHash && safeEqual(hashKey(adminToken), row.adminTokenHash)) return adminPrincipal("session");
  // signed in with an admin token no longer in force: over for good, even if that token comes back
  await prisma.session.deleteMany({ where: { id } });
  return null;
}

/** Ends the session a cookie names (signing out); a no-op for an unknown one. */
export async function endSession(value: string | undefined): Promise<void> {
  if (!value || !VALUE.test(value)) return;
  await getPrisma().session.deleteMany({ where: { id: hashKey(value) } });
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
  const key = `signin:${hashKey(token)}`;
  const prisma = getPrisma();
  const row = await prisma.setting.findUnique({ where: { key } });
  // of two callers presenting the same token, only the one whose delete removed it gets in
  if (!row || (await prisma.setting.deleteMany({ where: { key } })).count === 0) return null;
  const [id, exp] = row.value.split("|");
  return id && Number(exp) * 1000 >= Date.now() ? id : null;
}
