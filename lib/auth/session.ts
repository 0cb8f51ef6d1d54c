// Dashboard sessions: a signed, HttpOnly, SameSite=Lax cookie naming the API key the user signed in
// with (nothing secret in it; revoking the key ends the session). One-time sign-in links for the
// first start are single-use tokens stored hashed in the settings table.
import { createHmac, randomBytes } from "node:crypto";
import type pg from "pg";
import { getPool } from "@/lib/db/client";
import { hashKey, safeEqual } from "./keys";
import { getOrCreateSecret } from "./secrets";

export const SESSION_COOKIE = "bb_session";
export const SESSION_TTL_SECONDS = 7 * 24 * 3600;

async function sign(payload: string): Promise<string> {
  const secret = await getOrCreateSecret("session_secret");
  return createHmac("sha256", secret).update(payload).digest("base64url");
}

export async function createSessionValue(principalId: string, now = Date.now()): Promise<string> {
  const payload = `v1.${principalId}.${Math.floor(now / 1000) + SESSION_TTL_SECONDS}`;
  return `${payload}.${await sign(payload)}`;
}

/** The principal id a session cookie stands for, or null when it is forged, malformed or expired. */
export async function readSessionValue(value: string | undefined, now = Date.now()): Promise<string | null> {
  if (!value) return null;
  const parts = value.split(".");
  if (parts.length !== 4 || parts[0] !== "v1") return null;
  const [, id, exp, mac] = parts as [string, string, string, string];
  if (!safeEqual(mac, await sign(`v1.${id}.${exp}`))) return null;
  if (!/^\d+$/.test(exp) || Number(exp) * 1000 < now) return null;
  return id;
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
export async function createSignInToken(
  principalId: string,
  ttlSeconds = 24 * 3600,
  client: pg.ClientBase | pg.Pool = getPool(),
): Promise<string> {
  const token = randomBytes(24).toString("base64url");
  await client.query(`INSERT INTO settings (key, value) VALUES ($1, $2)`, [
    `signin:${hashKey(token)}`,
    `${principalId}|${Math.floor(Date.now() / 1000) + ttlSeconds}`,
  ]);
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
