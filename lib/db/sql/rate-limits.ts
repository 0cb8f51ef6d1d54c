// Rate limits shared across batches, workers and processes (lib/engine/rate-limits.ts): one row per
// key in rate_limits, two token buckets refilled by elapsed time on the database's clock. SQL because
// a caller takes its slot in one UPDATE under the row lock (a prepared statement on every limited
// call), the buckets are arithmetic over now() - refilled_at, and the upsert keeps the lower of the
// rates while another batch shares the key.
import type { Queryable } from "./queryable";

/** A batch's limit on its key: created, or (ON CONFLICT) the lower rates while another active batch shares it, else these. */
export async function upsertRateLimitRow(
  db: Queryable,
  l: { key: string; requestsPerMinute: number | null; tokensPerMinute: number | null; batchId: string },
): Promise<void> {
  await db.query(
    `INSERT INTO rate_limits AS r (key, requests_per_minute, tokens_per_minute, request_level, token_level)
     VALUES ($1, $2::float8, $3::float8, GREATEST(1, COALESCE($2::float8, 0) / 120), GREATEST(1, COALESCE($3::float8, 0) / 120))
     ON CONFLICT (key) DO UPDATE SET
       (requests_per_minute, tokens_per_minute, updated_at) = (
         SELECT CASE WHEN s.others THEN LEAST(r.requests_per_minute, EXCLUDED.requests_per_minute) ELSE EXCLUDED.requests_per_minute END,
                CASE WHEN s.others THEN LEAST(r.tokens_per_minute, EXCLUDED.tokens_per_minute) ELSE EXCLUDED.tokens_per_minute END,
                now()
         FROM (SELECT EXISTS (SELECT 1 FROM batches WHERE rate_limit_key = $1 AND id <> $4
                                AND status IN ('pending', 'running', 'paused')) AS others) s)`,
    [l.key, l.requestsPerMinute, l.tokensPerMinute, l.batchId],
  );
}

// Takes one request and `tokens` from the key's buckets, refilled to now at the current rate (which
// climbs back toward 1 since the last decrease), and says how long to wait for them.
const ACQUIRE_SQL = `
  WITH cur AS (
    SELECT key, requests_per_minute AS rpm, tokens_per_minute AS tpm, request_level, token_level, epoch,
           LEAST(1, rate_fraction + $4::float8 * GREATEST(0, extract(epoch FROM now() - fraction_at)::float8)) AS fraction,
           GREATEST(refilled_at, now()) AS level_at,
           GREATEST(0, extract(epoch FROM now() - refilled_at)::float8) AS secs,
           now() >= window_at + interval '10 seconds' AS roll,
           now() >= window_at + interval '20 seconds' AS gap,
           window_at, window_requests, window_tokens, last_requests, last_tokens
    FROM rate_limits WHERE key = $1 FOR UPDATE
  ), nxt AS (
    SELECT cur.*,
      CASE WHEN rpm IS NULL THEN 0 ELSE LEAST(GREATEST(1, rpm * fraction / 120), request_level + secs * rpm * fraction / 60) - 1 END AS req,
      CASE WHEN tpm IS NULL THEN 0 ELSE LEAST(GREATEST(1, tpm * fraction / 120), token_level + secs * tpm * fraction / 60) - $2::float8 END AS tok,
      GREATEST(1, COALESCE(tpm, 0) * fraction / 120) AS token_capacity
    FROM cur
  )
  UPDATE rate_limits r SET
    request_level = nxt.req, token_level = nxt.tok, refilled_at = nxt.level_at,
    rate_fraction = nxt.fraction, fraction_at = now(),
    last_requests = CASE WHEN NOT nxt.roll THEN nxt.last_requests WHEN nxt.gap THEN 0 ELSE nxt.window_requests END,
    last_tokens = CASE WHEN NOT nxt.roll THEN nxt.last_tokens WHEN nxt.gap THEN 0 ELSE nxt.window_tokens END,
    window_requests = CASE WHEN nxt.roll THEN 0 ELSE nxt.window_requests END + 1,
    window_tokens = CASE WHEN nxt.roll THEN 0 ELSE nxt.window_tokens END + $2::float8,
    window_at = CASE WHEN nxt.roll THEN nxt.window_at + make_interval(secs => 10 * floor(extract(epoch FROM now() - nxt.window_at) / 10)) ELSE nxt.window_at END,
    updated_at = now()
  FROM nxt WHERE r.key = nxt.key
  RETURNING r.epoch,
    (1000 * (extract(epoch FROM nxt.level_at - now())::float8 + GREATEST(
      CASE WHEN nxt.req < 0 THEN -nxt.req / (nxt.rpm * nxt.fraction / 60) ELSE 0 END,
      -- a call larger than the burst goes once the bucket is full, as a provider's bucket takes it
      CASE WHEN nxt.tpm IS NULL THEN 0
           ELSE GREATEST(0, LEAST($2::float8, nxt.token_capacity) - (nxt.tok + $2::float8)) / (nxt.tpm * nxt.fraction / 60) END)))::float8 AS wait_ms,
    (SELECT status::text FROM batches WHERE id = $3) AS batch_status`;

/** Takes one slot (one request and `tokens`): the key's epoch, how long to wait for it, and the batch's status; none when the key has no row. */
export async function takeRateLimitSlot(
  db: Queryable,
  key: string,
  tokens: number,
  batchId: string,
  recoveryPerSecond: number,
): Promise<{ epoch: number; wait_ms: number; batch_status: string | null } | undefined> {
  const { rows } = await db.query<{ epoch: number; wait_ms: number; batch_status: string | null }>({
    name: "batchboard_rate_limit_acquire",
    text: ACQUIRE_SQL,
    values: [key, tokens, batchId, recoveryPerSecond],
  });
  return rows[0];
}

/** The key's epoch now, and the batch's status. */
export async function rateLimitEpoch(db: Queryable, key: string, batchId: string): Promise<{ epoch: number; batch_status: string | null } | undefined> {
  const { rows } = await db.query<{ epoch: number; batch_status: string | null }>(
    `SELECT epoch, (SELECT status::text FROM batches WHERE id = $2) AS batch_status FROM rate_limits WHERE key = $1`,
    [key, batchId],
  );
  return rows[0];
}

/** Gives an unused slot back, unless the key's epoch has moved on. */
export async function refundRateLimitSlot(db: Queryable, key: string, tokens: number, epoch: number): Promise<void> {
  await db.query(
    `UPDATE rate_limits SET request_level = request_level + CASE WHEN requests_per_minute IS NULL THEN 0 ELSE 1 END,
       token_level = token_level + CASE WHEN tokens_per_minute IS NULL THEN 0 ELSE $2::float8 END,
       window_requests = GREATEST(0, window_requests - 1), window_tokens = GREATEST(0, window_tokens - $2::float8)
     WHERE key = $1 AND epoch = $3`,
    [key, tokens, epoch],
  );
}

/** Corrects the token bucket by `diff` tokens (used minus estimated). */
export async function correctRateLimitTokens(db: Queryable, key: string, diff: number): Promise<void> {
  await db.query(
    `UPDATE rate_limits SET token_level = token_level - CASE WHEN tokens_per_minute IS NULL THEN 0 ELSE $2::float8 END,
       window_tokens = GREATEST(0, window_tokens + $2::float8)
     WHERE key = $1`,
    [key, diff],
  );
}

/** A 429: pauses the key `pauseMs` (Retry-After), or halves its rate at most once per `spacingMs`; either way its epoch moves on. */
export async function slowRateLimit(db: Queryable, key: string, pauseMs: number | null, recoveryPerSecond: number, spacingMs: number): Promise<void> {
  await db.query(
    `UPDATE rate_limits SET
       paused_until = CASE WHEN $2::float8 IS NULL THEN paused_until
                           ELSE GREATEST(COALESCE(paused_until, now()), now() + make_interval(secs => $2::float8 / 1000)) END,
       refilled_at = CASE WHEN $2::float8 IS NULL THEN refilled_at
                          ELSE GREATEST(refilled_at, now() + make_interval(secs => $2::float8 / 1000)) END,
       rate_fraction = CASE WHEN $2::float8 IS NOT NULL THEN rate_fraction
                            ELSE GREATEST(0.5 * LEAST(1, rate_fraction + $3::float8 * extract(epoch FROM now() - fraction_at)::float8),
                                          LEAST(1, 1.0 / COALESCE(requests_per_minute, tokens_per_minute / 1000.0))) END,
       fraction_at = CASE WHEN $2::float8 IS NULL THEN now() ELSE fraction_at END,
       decreased_at = CASE WHEN $2::float8 IS NULL THEN now() ELSE decreased_at END,
       request_level = LEAST(request_level, 0), token_level = LEAST(token_level, 0),
       epoch = epoch + 1, updated_at = now()
     WHERE key = $1 AND ($2::float8 IS NOT NULL OR decreased_at IS NULL OR decreased_at < now() - make_interval(secs => $4::float8 / 1000))`,
    [key, pauseMs, recoveryPerSecond, spacingMs],
  );
}

export interface RateLimitRow {
    rpm: number | null;
    tpm: number | null;
    fraction: number;
    paused_until: Date | null;
    req: number;
    tok: number;
    age: number;
    window_requests: number;
    window_tokens: number;
    last_requests: number;
    last_tokens: number;
    others: number;
  }

/** The key's configured and current rates, levels and recent use, and how many other active batches share it. */
export async function rateLimitRow(db: Queryable, key: string, batchId: string, recoveryPerSecond: number): Promise<RateLimitRow | undefined> {
  const { rows } = await db.query<RateLimitRow>(
    `SELECT requests_per_minute AS rpm, tokens_per_minute AS tpm,
            LEAST(1, rate_fraction + $3::float8 * GREATEST(0, extract(epoch FROM now() - fraction_at)::float8)) AS fraction,
            CASE WHEN paused_until > now() THEN paused_until END AS paused_until,
            request_level + GREATEST(0, extract(epoch FROM now() - refilled_at)::float8) * COALESCE(requests_per_minute, 0) * rate_fraction / 60 AS req,
            token_level + GREATEST(0, extract(epoch FROM now() - refilled_at)::float8) * COALESCE(tokens_per_minute, 0) * rate_fraction / 60 AS tok,
            extract(epoch FROM now() - window_at)::float8 AS age, window_requests, window_tokens, last_requests, last_tokens,
            (SELECT count(*)::int FROM batches WHERE rate_limit_key = $1 AND id <> $2 AND status IN ('pending', 'running', 'paused')) AS others
     FROM rate_limits WHERE key = $1`,
    [key, batchId, recoveryPerSecond],
  );
  return rows[0];
}
