// Rate limits shared across batches, workers and processes, kept in PostgreSQL (rate_limits, one row
// per key). Each key is two token buckets, requests and tokens, refilled by elapsed time at the key's
// current rate. A caller takes its request (and its token estimate) in one UPDATE, whatever the level:
// the level may go below zero, and the caller then sleeps until the bucket has refilled to it (no
// connection held meanwhile). Callers are served in the order they asked, one statement each, with no
// polling. Capacity is half a second of rate (at least 1): a provider that admits exactly R a minute
// is itself a token bucket holding about a second of rate, and the other half absorbs the jitter
// between our clock and its (a first call slowed by its connection setup, the next ones not).
// A 429 with Retry-After pauses the key; one without it halves the key's rate, which climbs back by
// 5% of the configured rate every 10 s. Either one bumps the key's epoch: callers that took their slot
// before it take a new one, so nothing queued before a pause runs during it.
import type pg from "pg";
import { declaredRateLimits, type DeclaredRates } from "@/lib/config";
import { getPool } from "@/lib/db/client";
import { AppError } from "@/lib/errors";
import type { FlowDefinition, FlowRecord } from "@/lib/flows/types";
import type { RateLimitInput } from "./types";

/** share of the configured rate regained per second after a decrease (5% per 10 s) */
export const RECOVERY_PER_SECOND = 0.005;
/** a second 429 within this long of a decrease does not halve the rate again (the calls already in flight) */
const DECREASE_SPACING_MS = 1000;
/** the longest a waiter sleeps before it looks again (its batch paused, the key's epoch moved) */
const RECHECK_MS = 2000;
/**
 * Added to every wait: a timer may fire a few ms early (the event loop's cached clock), and a call
 * sent even 1 ms before its turn finds a provider's bucket, running at the same rate, short of it.
 * It delays each call, never the schedule: the rate is the same.
 */
const WAIT_MARGIN_MS = 15;

/** A batch's limit as created: the key it draws from and the rates that key gets. */
export interface ResolvedRateLimit {
  key: string;
  /** the key as the batch named it; null for a limit of its own */
  sharedKey: string | null;
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
}

/** The key of a batch's own limit (a rate_limit without `key`). */
export const ownKey = (batchId: string) => `batch:${batchId}`;

const lower = (a: number | undefined | null, b: number | undefined | null) =>
  a == null ? (b ?? null) : b == null ? a : Math.min(a, b);

/**
 * The limit a batch gets: its own rates, or those of its key. A key the operator declared
 * (BATCHBOARD_RATE_LIMITS) takes the declared rates, or the batch's where they are lower; a key nobody
 * declared needs the batch to give a rate.
 */
export function resolveRateLimit(batchId: string, asked: RateLimitInput, declared: Map<string, DeclaredRates> = declaredRateLimits()): ResolvedRateLimit {
  const op = asked.key ? declared.get(asked.key) : undefined;
  const rpm = lower(op?.requests_per_minute, asked.requestsPerMinute);
  const tpm = lower(op?.tokens_per_minute, asked.tokensPerMinute);
  if (rpm === null && tpm === null) {
    const message = asked.key
      ? `no limit is declared for key ${JSON.stringify(asked.key)} (BATCHBOARD_RATE_LIMITS): give requests_per_minute or tokens_per_minute`
      : "give requests_per_minute, tokens_per_minute or a key";
    throw new AppError("validation_failed", `rate_limit: ${message}`, [{ path: asked.key ? "rate_limit.key" : "rate_limit", message }]);
  }
  return { key: asked.key ? asked.key : ownKey(batchId), sharedKey: asked.key ?? null, requestsPerMinute: rpm, tokensPerMinute: tpm };
}

/**
 * Creates or updates the key's row in the creating transaction. While other active batches draw from
 * the key, the lower of its rates and this batch's wins; otherwise this batch's rates replace them.
 */
export async function upsertRateLimit(client: pg.ClientBase, batchId: string, limit: ResolvedRateLimit): Promise<void> {
  await client.query(
    `INSERT INTO rate_limits AS r (key, requests_per_minute, tokens_per_minute, request_level, token_level)
     VALUES ($1, $2::float8, $3::float8, GREATEST(1, COALESCE($2::float8, 0) / 120), GREATEST(1, COALESCE($3::float8, 0) / 120))
     ON CONFLICT (key) DO UPDATE SET
       (requests_per_minute, tokens_per_minute, updated_at) = (
         SELECT CASE WHEN s.others THEN LEAST(r.requests_per_minute, EXCLUDED.requests_per_minute) ELSE EXCLUDED.requests_per_minute END,
                CASE WHEN s.others THEN LEAST(r.tokens_per_minute, EXCLUDED.tokens_per_minute) ELSE EXCLUDED.tokens_per_minute END,
                now()
         FROM (SELECT EXISTS (SELECT 1 FROM batches WHERE rate_limit_key = $1 AND id <> $4
                                AND status IN ('pending', 'running', 'paused')) AS others) s)`,
    [limit.key, limit.requestsPerMinute, limit.tokensPerMinute, batchId],
  );
}

export interface Permit {
  key: string;
  /** the tokens charged before the call */
  estimate: number;
  epoch: number;
}

/** Thrown by waitForRateLimit when the job should go back to the queue unstarted (its batch was paused). */
export class RateLimitHandBack extends Error {
  override name = "RateLimitHandBack";
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

const RUNNABLE = new Set(["pending", "running"]);

/** One acquire: the key's epoch, how long to wait for the slot taken, and the batch's status. */
export async function acquireRateLimit(key: string, tokens: number, batchId: string, db: Pick<pg.Pool, "query"> = getPool()) {
  const { rows } = await db.query<{ epoch: number; wait_ms: number; batch_status: string | null }>({
    name: "batchboard_rate_limit_acquire",
    text: ACQUIRE_SQL,
    values: [key, tokens, batchId, RECOVERY_PER_SECOND],
  });
  const r = rows[0];
  // the row is created with its first batch; a missing one (deleted by hand) does not limit
  if (!r) return { epoch: -1, waitMs: 0, batchStatus: "running" };
  return { epoch: r.epoch, waitMs: Math.max(0, r.wait_ms), batchStatus: r.batch_status ?? "cancelled" };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The tokens charged before a call: the flow's estimate, else the record's JSON characters / 4. */
export function estimateTokens(flow: Pick<FlowDefinition, "estimateTokens">, params: unknown, record: FlowRecord): number {
  const own = flow.estimateTokens?.(params as never, record);
  if (typeof own === "number" && Number.isFinite(own) && own >= 0) return Math.ceil(own);
  return Math.ceil((JSON.stringify(record.data ?? null)?.length ?? 0) / 4);
}

/**
 * Waits until the key lets one call (and `tokens`) through. Never holds a connection while asleep;
 * `signal` (cancel, timeout, shutdown) ends the wait at once and gives the slot back. Throws
 * RateLimitHandBack when the batch stops being runnable (paused) while waiting.
 */
export async function waitForRateLimit(key: string, tokens: number, batchId: string, signal: AbortSignal): Promise<Permit> {
  for (;;) {
    const got = await acquireRateLimit(key, tokens, batchId);
    const permit = { key, estimate: tokens, epoch: got.epoch };
    if (!RUNNABLE.has(got.batchStatus)) {
      await refund(permit);
      throw new RateLimitHandBack(`the batch is ${got.batchStatus}`);
    }
    let left = got.waitMs > 0 ? got.waitMs + WAIT_MARGIN_MS : 0;
    let moved = false;
    try {
      while (left > 0) {
        const step = Math.min(left, RECHECK_MS);
        await sleep(step, signal);
        left -= step;
        const now = await getPool().query<{ epoch: number; batch_status: string | null }>(
          `SELECT epoch, (SELECT status::text FROM batches WHERE id = $2) AS batch_status FROM rate_limits WHERE key = $1`,
          [key, batchId],
        );
        const row = now.rows[0];
        if (row && !RUNNABLE.has(row.batch_status ?? "cancelled")) {
          await refund(permit);
          throw new RateLimitHandBack(`the batch is ${row.batch_status}`);
        }
        // paused or slowed down since this slot was taken: it no longer holds, take a new one
        if (row && row.epoch !== got.epoch) {
          moved = true;
          break;
        }
      }
    } catch (err) {
      if (!(err instanceof RateLimitHandBack)) await refund(permit).catch(() => {});
      throw err;
    }
    if (!moved) return permit;
  }
}

/** Gives an unused slot back (a wait cut short); nothing once the key's epoch has moved on. */
async function refund(p: Permit): Promise<void> {
  await getPool().query(
    `UPDATE rate_limits SET request_level = request_level + CASE WHEN requests_per_minute IS NULL THEN 0 ELSE 1 END,
       token_level = token_level + CASE WHEN tokens_per_minute IS NULL THEN 0 ELSE $2::float8 END,
       window_requests = GREATEST(0, window_requests - 1), window_tokens = GREATEST(0, window_tokens - $2::float8)
     WHERE key = $1 AND epoch = $3`,
    [p.key, p.estimate, p.epoch],
  );
}

/** Corrects the token bucket by what the call really used (reportUsage) against its estimate. */
export async function settleUsage(p: Permit, usedTokens: number): Promise<void> {
  const diff = usedTokens - p.estimate;
  if (!Number.isFinite(diff) || diff === 0) return;
  await getPool().query(
    `UPDATE rate_limits SET token_level = token_level - CASE WHEN tokens_per_minute IS NULL THEN 0 ELSE $2::float8 END,
       window_tokens = GREATEST(0, window_tokens + $2::float8)
     WHERE key = $1`,
    [p.key, diff],
  );
}

/**
 * The provider answered 429: with Retry-After the key pauses that long (no refill until then);
 * without it the key's rate halves (at most once a second, down to about 1 a minute). Either way
 * the slots already handed out are void: their waiters take new ones.
 */
export async function reportRateLimited(key: string, retryAfterMs: number | undefined): Promise<void> {
  const pause = retryAfterMs !== undefined && retryAfterMs > 0 ? retryAfterMs : null;
  await getPool().query(
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
    [key, pause, RECOVERY_PER_SECOND, DECREASE_SPACING_MS],
  );
}

/** What GET /api/batches/{id} says of a batch's limit, live. */
export interface RateLimitState {
  key: string | null;
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  /** the rates in use now: lower than the configured ones after a 429, climbing back */
  currentRequestsPerMinute: number | null;
  currentTokensPerMinute: number | null;
  pausedUntil: Date | null;
  /** requests and tokens per minute over about the last 10-20 s, all batches of the key together */
  recentRequestsPerMinute: number;
  recentTokensPerMinute: number;
  /** other batches not finished that draw from the same key */
  sharedWith: number;
  /** paused, or no slot free: the next call waits */
  waiting: boolean;
}

export async function readRateLimitState(batchId: string, key: string, shared: boolean, db: Pick<pg.Pool, "query"> = getPool()): Promise<RateLimitState | null> {
  const { rows } = await db.query<{
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
  }>(
    `SELECT requests_per_minute AS rpm, tokens_per_minute AS tpm,
            LEAST(1, rate_fraction + $3::float8 * GREATEST(0, extract(epoch FROM now() - fraction_at)::float8)) AS fraction,
            CASE WHEN paused_until > now() THEN paused_until END AS paused_until,
            request_level + GREATEST(0, extract(epoch FROM now() - refilled_at)::float8) * COALESCE(requests_per_minute, 0) * rate_fraction / 60 AS req,
            token_level + GREATEST(0, extract(epoch FROM now() - refilled_at)::float8) * COALESCE(tokens_per_minute, 0) * rate_fraction / 60 AS tok,
            extract(epoch FROM now() - window_at)::float8 AS age, window_requests, window_tokens, last_requests, last_tokens,
            (SELECT count(*)::int FROM batches WHERE rate_limit_key = $1 AND id <> $2 AND status IN ('pending', 'running', 'paused')) AS others
     FROM rate_limits WHERE key = $1`,
    [key, batchId, RECOVERY_PER_SECOND],
  );
  const r = rows[0];
  if (!r) return null;
  const perMinute = (last: number, cur: number) => {
    if (r.age >= 20) return 0;
    if (r.age >= 10) return (cur / r.age) * 60;
    return ((last + cur) / (10 + r.age)) * 60;
  };
  const round1 = (n: number) => Math.round(n * 10) / 10;
  return {
    key: shared ? key : null,
    requestsPerMinute: r.rpm,
    tokensPerMinute: r.tpm,
    currentRequestsPerMinute: r.rpm === null ? null : round1(r.rpm * r.fraction),
    currentTokensPerMinute: r.tpm === null ? null : round1(r.tpm * r.fraction),
    pausedUntil: r.paused_until,
    recentRequestsPerMinute: round1(perMinute(r.last_requests, r.window_requests)),
    recentTokensPerMinute: round1(perMinute(r.last_tokens, r.window_tokens)),
    sharedWith: shared ? r.others : 0,
    waiting: r.paused_until !== null || (r.rpm !== null && r.req < 1) || (r.tpm !== null && r.tok < 1),
  };
}

/**
 * The worker's side, before a rate-limited job's flow runs: charges the flow's token estimate and
 * waits for the call (see waitForRateLimit).
 */
export function beforeLimitedCall(
  key: string,
  flow: Pick<FlowDefinition, "estimateTokens">,
  params: unknown,
  record: FlowRecord,
  batchId: string,
  signal: AbortSignal,
): Promise<Permit> {
  return waitForRateLimit(key, estimateTokens(flow, params, record), batchId, signal);
}

/** The same for a chunk: one call, charged the token estimates of all its records. */
export function beforeLimitedChunk(
  key: string,
  flow: Pick<FlowDefinition, "estimateTokens">,
  params: unknown,
  records: readonly FlowRecord[],
  batchId: string,
  signal: AbortSignal,
): Promise<Permit> {
  let tokens = 0;
  for (const r of records) tokens += estimateTokens(flow, params, r);
  return waitForRateLimit(key, tokens, batchId, signal);
}

/**
 * After the flow ran (or failed): the token bucket is corrected by the usage the flow reported, and a
 * 429 pauses or slows the key. Not awaited by the worker: a failed write only loses a correction.
 */
export function afterLimitedCall(
  permit: Permit,
  usedTokens: number | null,
  err: unknown,
  log: (line: string) => void = (line) => console.error(`[rate limits] ${line}`),
): void {
  const writes: Promise<void>[] = [];
  if (usedTokens !== null) writes.push(settleUsage(permit, usedTokens));
  const e = err as { rateLimited?: unknown; retryAfterMs?: unknown } | null;
  if (e && e.rateLimited === true) writes.push(reportRateLimited(permit.key, typeof e.retryAfterMs === "number" ? e.retryAfterMs : undefined));
  for (const w of writes) w.catch((error: unknown) => log(`rate limit ${permit.key}: ${(error as Error).message}`));
}
