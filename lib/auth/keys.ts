// API keys: random, shown once, stored as a SHA-256 hash (they are 190-bit random strings, so a
// fast hash is enough; no key can be recovered from the database). Scopes nest: admin > write > read.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { getConfig } from "@/lib/config";
import { AppError } from "@/lib/errors";
import { getPrisma, type Db } from "@/lib/db/client";
import type { ApiKey } from "@/lib/generated/prisma/client";

export const SCOPES = ["read", "write", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKeyInfo {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface Principal {
  /** api key id, "admin-token" for BATCHBOARD_ADMIN_TOKEN, "local" when auth is off */
  id: string;
  name: string;
  scopes: Scope[];
  via: "bearer" | "session" | "none";
}

const RANK: Record<Scope, number> = { read: 1, write: 2, admin: 3 };

export function hasScope(scopes: readonly Scope[], needed: Scope): boolean {
  return scopes.some((s) => RANK[s] >= RANK[needed]);
}

export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

export function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

function generateKey(): { key: string; prefix: string } {
  const prefix = randomBytes(4).toString("hex");
  return { key: `bb_${prefix}_${randomBytes(24).toString("base64url")}`, prefix: `bb_${prefix}` };
}

/** The scopes stored for a key, known ones only. */
export const scopesOf = (raw: string[] | null): Scope[] => (raw ?? []).filter((s): s is Scope => (SCOPES as readonly string[]).includes(s));

/** The principal id of BATCHBOARD_ADMIN_TOKEN. */
export const ADMIN_TOKEN_ID = "admin-token";

export const adminPrincipal = (via: Principal["via"]): Principal => ({ id: ADMIN_TOKEN_ID, name: "admin token", scopes: ["admin"], via });

const toInfo = ({ id, name, prefix, scopes, createdAt, lastUsedAt, revokedAt }: ApiKey): ApiKeyInfo => ({
  id,
  name,
  prefix,
  scopes: scopesOf(scopes),
  createdAt,
  lastUsedAt,
  revokedAt,
});

/** Creates a key. The returned `key` is the only time it exists in clear. */
export async function createApiKey(input: { name: string; scopes: Scope[] }, db: Db = getPrisma()): Promise<{ key: string; info: ApiKeyInfo }> {
  const { key, prefix } = generateKey();
  const row = await db.apiKey.create({
    data: { id: `key_${randomUUID().replace(/-/g, "").slice(0, 16)}`, name: input.name, prefix, hash: hashKey(key), scopes: input.scopes },
  });
  return { key, info: toInfo(row) };
}

export async function listApiKeys(): Promise<ApiKeyInfo[]> {
  return (await getPrisma().apiKey.findMany({ orderBy: { createdAt: "desc" } })).map(toInfo);
}

/** Revokes a key and ends the dashboard sessions signed in with it. */
export async function revokeApiKey(id: string): Promise<ApiKeyInfo> {
  const prisma = getPrisma();
  await prisma.$transaction([
    prisma.session.deleteMany({ where: { keyId: id } }),
    // a second revoke keeps the first time
    prisma.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date() } }),
  ]);
  const row = await prisma.apiKey.findUnique({ where: { id } });
  if (!row) throw new AppError("not_found", `api key ${JSON.stringify(id)} not found`);
  return toInfo(row);
}

export async function countActiveKeys(db: Db = getPrisma()): Promise<number> {
  return db.apiKey.count({ where: { revokedAt: null } });
}

/** The principal a presented key stands for, or null. */
export async function verifyKey(key: string): Promise<Principal | null> {
  const adminToken = getConfig().BATCHBOARD_ADMIN_TOKEN;
  if (adminToken && safeEqual(key, adminToken)) return adminPrincipal("bearer");
  if (!key.startsWith("bb_")) return null;
  const row = await getPrisma().apiKey.findUnique({ where: { hash: hashKey(key) } });
  if (!row || row.revokedAt) return null;
  // last_used_at is advisory: written at most once a minute per key
  const now = new Date();
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
    await getPrisma().apiKey.updateMany({ where: { id: row.id, revokedAt: null }, data: { lastUsedAt: now } });
  }
  return { id: row.id, name: row.name, scopes: scopesOf(row.scopes), via: "bearer" };
}
