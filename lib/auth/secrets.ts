// Server-side secrets generated once and kept in the settings table (session signing, webhook
// signing when BATCHBOARD_WEBHOOK_SECRET is unset), so every process of a deployment agrees on them.
import { randomBytes } from "node:crypto";
import { getPool } from "@/lib/db/client";

const cache = new Map<string, string>();

export async function getOrCreateSecret(key: string): Promise<string> {
  const hit = cache.get(key);
  if (hit) return hit;
  const pool = getPool();
  await pool.query(`INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, [
    key,
    randomBytes(32).toString("base64url"),
  ]);
  const { rows } = await pool.query<{ value: string }>(`SELECT value FROM settings WHERE key = $1`, [key]);
  const value = rows[0]!.value;
  cache.set(key, value);
  return value;
}
