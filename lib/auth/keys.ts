// API keys: random, shown once, stored as a SHA-256 hash (they are 190-bit random strings, so a
// fast hash is enough; no key can be recovered from the database). Scopes nest: admin > write > read.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { getConfig } from "@/lib/config";
import { AppError } from "@/lib/errors";
import type pg from "pg";
import { getPool } from "@/lib/db/client";

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

interface KeyRow {
  id: string;
  name: string;
  prefix: string;
  scopes: string[] | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** The scopes stored for a key, known ones only. */
export const scopesOf = (raw: string[] | null): Scope[] => (raw ?? []).filter((s): s is Scope => (SCOPES as readonly string[]).includes(s));

/** The principal id of BATCHBOARD_ADMIN_TOKEN. */
export const ADMIN_TOKEN_ID = "admin-token";

export const adminPrincipal = (via: Principal["via"]): Principal => ({ id: ADMIN_TOKEN_ID, name: "admin token", scopes: ["admin"], via });

const toInfo = (r: KeyRow): ApiKeyInfo => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  scopes: scopesOf(r.scopes),
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

/** Creates a key. The returned `key` is the only time it exists in clear. */
export async function createApiKey(
  input: { name: string; scopes: Scope[] },
  client: pg.ClientBase | pg.Pool = getPool(),
): Promise<{ key: string; info: ApiKeyInfo }> {
  const { key, prefix } = generateKey();
  const { rows } = await client.query<KeyRow>(
    `INSERT INTO api_keys (id, name, prefix, hash, scopes) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
    [`key_${randomUUID().replace(/-/g, "").slice(0, 16)}`, input.name, prefix, hashKey(key), input.scopes],
  );
  return { key, info: toInfo(rows[0]!) };
}

export async function listApiKeys(): Promise<ApiKeyInfo[]> {
  const { rows } = await getPool().query<KeyRow>(`SELECT * FROM api_keys ORDER BY created_at DESC`);
  return rows.map(toInfo);
}

/** Revokes a key and ends the dashboard sessions signed in with it. */
export async function revokeApiKey(id: string): Promise<ApiKeyInfo> {
  const { rows } = await getPool().query<KeyRow>(
    `WITH ended AS (DELETE FROM sessions WHERE key_id = $1)
     UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING *`,
    [id],
  );
  if (!rows[0]) throw new AppError("not_found", `api key ${JSON.stringify(id)} not found`);
  return toInfo(rows[0]);
}

export async function countActiveKeys(): Promise<number> {
  const { rows } = await getPool().query<{ n: number }>(`SELECT count(*)::int AS n FROM api_keys WHERE revoked_at IS NULL`);
  return rows[0]!.n;
}

/** The principal a presented key stands for, or null. */
export async function verifyKey(key: string): Promise<Principal | null> {
  const adminToken = getConfig().BATCHBOARD_ADMIN_TOKEN;
  if (adminToken && safeEqual(key, adminToken)) return adminPrincipal("bearer");
  if (!key.startsWith("bb_")) return null;
  const { rows } = await getPool().query<KeyRow>(
    // last_used_at is advisory: written at most once a minute per key
    `UPDATE api_keys SET last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < now() - interval '1 minute'
       THEN now() ELSE last_used_at END
     WHERE hash = $1 AND revoked_at IS NULL RETURNING *`,
    [hashKey(key)],
  );
  const row = rows[0];
  return row ? { id: row.id, name: row.name, scopes: scopesOf(row.scopes), via: "bearer" } : null;
}
