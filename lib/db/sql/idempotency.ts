// Idempotency-Key statements (lib/api/idempotency.ts) that Prisma Client cannot say: the claim is one
// upsert that takes over only a stale claim (ON CONFLICT ... WHERE, on the database's clock), and the
// response is stored in the creating transaction, which is a pg transaction (withTx) holding the
// batch's row locks.
import type { Queryable } from "./queryable";

/** Claims (scope, key) for `token`: a new row, or one whose claim is older than `staleMs`; false when another request holds it. */
export async function claimIdempotencyKey(db: Queryable, scope: string, key: string, requestHash: string, token: string, staleMs: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO idempotency_keys (key, scope, request_hash, claim, claimed_at) VALUES ($1, $2, $3, $4, now())
     ON CONFLICT (scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, claim = EXCLUDED.claim, claimed_at = now()
       WHERE idempotency_keys.status IS NULL AND idempotency_keys.claimed_at < now() - make_interval(secs => $5::float8 / 1000)`,
    [key, scope, requestHash, token, staleMs],
  );
  return rowCount === 1;
}

/** Stores the response of the claim `token` holds; false when the claim was taken over. */
export async function storeIdempotentResponse(db: Queryable, scope: string, key: string, token: string, status: number, body: unknown): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE idempotency_keys SET status = $4, response = $5::jsonb, claim = NULL
     WHERE scope = $1 AND key = $2 AND claim = $3`,
    [scope, key, token, status, JSON.stringify(body)],
  );
  return rowCount === 1;
}
