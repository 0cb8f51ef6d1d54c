// Idempotency-Key for POST /api/batches: the first request with a key stores its response; a retry
// with the same key and body gets that response again (Idempotent-Replayed: true); the same key
// with another body is a 409. An advisory lock on the key serialises concurrent retries.
import "server-only";
import { createHash } from "node:crypto";
import { getPool } from "@/lib/db/client";
import { AppError } from "@/lib/errors";
import { json } from "./handler";

/** JSON with sorted object keys, so {"a":1,"b":2} and {"b":2,"a":1} hash alike. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

export function requestHash(body: unknown): string {
  return createHash("sha256").update(canonicalJson(body)).digest("hex");
}

export function idempotencyKeyOf(request: Request): string | null {
  const key = request.headers.get("idempotency-key");
  if (key === null) return null;
  const trimmed = key.trim();
  if (!trimmed || trimmed.length > 255) {
    const message = "Idempotency-Key must be 1 to 255 characters";
    throw new AppError("bad_request", message, [{ path: "Idempotency-Key", message }]);
  }
  return trimmed;
}

/**
 * Runs `create` once per (scope, key): returns its response, or the stored one on a replay.
 * `create` returns [status, body]; only successful responses are stored, so a failed attempt can be retried.
 */
export async function withIdempotency(
  scope: string,
  key: string | null,
  body: unknown,
  create: () => Promise<[number, unknown]>,
): Promise<Response> {
  if (key === null) {
    const [status, out] = await create();
    return json(out, status);
  }
  const hash = requestHash(body);
  const client = await getPool().connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", [scope, key]);
    const found = await client.query<{ request_hash: string; status: number; response: unknown }>(
      "SELECT request_hash, status, response FROM idempotency_keys WHERE scope = $1 AND key = $2",
      [scope, key],
    );
    const prior = found.rows[0];
    if (prior) {
      await client.query("COMMIT");
      if (prior.request_hash !== hash) {
        throw new AppError("conflict", "this Idempotency-Key was already used with a different request body", [
          { path: "Idempotency-Key", message: "reuse a key only to retry the identical request" },
        ]);
      }
      return json(prior.response, prior.status, { "Idempotent-Replayed": "true" });
    }
    const [status, out] = await create();
    await client.query(
      "INSERT INTO idempotency_keys (key, scope, request_hash, status, response) VALUES ($1, $2, $3, $4, $5::jsonb)",
      [key, scope, hash, status, JSON.stringify(out)],
    );
    await client.query("COMMIT");
    return json(out, status);
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
