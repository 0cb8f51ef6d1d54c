// Idempotency-Key for POST /api/batches: the first request with a key stores its response; a retry
// with the same key and body gets that response again (Idempotent-Replayed: true); the same key
// with another body is a 409.
//
// The first request claims the key with a row (one statement), creates, and stores its response in
// the transaction that creates, so the batch exists exactly when the response does. Retries arriving
// meanwhile wait for that response holding no connection (a few short reads), and answer 409 if it
// does not come within CLAIM_WAIT_MS. A claim whose request died is taken over after CLAIM_STALE_MS;
// the stale request, should it still be running, then fails to store its response and rolls back.
import "server-only";
import { createHash, randomUUID } from "node:crypto";
import type pg from "pg";
import { getPool, getPrisma } from "@/lib/db/client";
import { claimIdempotencyKey, storeIdempotentResponse } from "@/lib/db/sql/idempotency";
import { AppError } from "@/lib/errors";
import { json } from "./handler";

/** How long a retry waits for the first request's response before answering 409. */
const CLAIM_WAIT_MS = 15_000;
/** A claim this old belongs to a request that died: another may take the key over. */
const CLAIM_STALE_MS = 120_000;

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

/** Stores the response inside the caller's transaction, which must roll back if this throws. */
export type StoreResponse = (client: pg.ClientBase, status: number, body: unknown) => Promise<void>;

interface Claim {
  scope: string;
  key: string;
  token: string;
}

/** Claims the key (a new row, or one whose claim went stale); false when another request holds it. */
async function tryClaim(scope: string, key: string, hash: string, token: string): Promise<boolean> {
  return claimIdempotencyKey(getPool(), scope, key, hash, token, CLAIM_STALE_MS);
}

async function storeResponse(client: pg.ClientBase | pg.Pool, claim: Claim, status: number, body: unknown): Promise<void> {
  const stored = await storeIdempotentResponse(client, claim.scope, claim.key, claim.token, status, body);
  if (!stored) {
    throw new AppError("conflict", "this request outlived its Idempotency-Key claim and a retry took the key over", [
      { path: "Idempotency-Key", message: "the retry's response is the one kept" },
    ]);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `create` once per (scope, key): returns its response, or the stored one on a replay.
 * `create` gets `store` (null without a key) to call inside the transaction that creates; it returns
 * [status, body]. Only successful responses are stored, so a failed attempt can be retried.
 */
export async function withIdempotency(
  scope: string,
  key: string | null,
  body: unknown,
  create: (store: StoreResponse | null) => Promise<[number, unknown]>,
): Promise<Response> {
  if (key === null) {
    const [status, out] = await create(null);
    return json(out, status);
  }
  const hash = requestHash(body);
  const claim: Claim = { scope, key, token: randomUUID() };
  const deadline = Date.now() + CLAIM_WAIT_MS;
  for (let pause = 10; !(await tryClaim(scope, key, hash, claim.token)); pause = Math.min(pause * 2, 250)) {
    const prior = await getPrisma().idempotencyKey.findUnique({
      where: { scope_key: { scope, key } },
      select: { requestHash: true, status: true, response: true },
    });
    if (!prior) continue; // its request failed and let the key go: claim it
    if (prior.requestHash !== hash) {
      throw new AppError("conflict", "this Idempotency-Key was already used with a different request body", [
        { path: "Idempotency-Key", message: "reuse a key only to retry the identical request" },
      ]);
    }
    if (prior.status !== null) return json(prior.response, prior.status, { "Idempotent-Replayed": "true" });
    if (Date.now() > deadline) {
      throw new AppError("conflict", "a request with this Idempotency-Key is still in progress: retry it later", [
        { path: "Idempotency-Key", message: "the first request with this key has not finished" },
      ], { "Retry-After": "1" });
    }
    await sleep(pause);
  }

  let stored = false;
  const store: StoreResponse = async (client, status, out) => {
    await storeResponse(client, claim, status, out);
    stored = true;
  };
  let result: [number, unknown];
  try {
    result = await create(store);
  } catch (err) {
    // let a retry have the key (a no-op if a retry already took it over)
    await getPrisma()
      .idempotencyKey.deleteMany({ where: { scope, key, claim: claim.token } })
      .catch(() => {});
    throw err;
  }
  const [status, out] = result;
  if (!stored) await storeResponse(getPool(), claim, status, out);
  return json(out, status);
}
