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
import type { Queryable } from "@/lib/db/sql/queryable";
import {
  correctRateLimitTokens,
  rateLimitEpoch,
  rateLimitRow,
  refundRateLimitSlot,
  slowRateLimit,
  takeRateLimitSlot,
  upsertRateLimitRow,
} from "@/lib/db/sql/rate-limits";
import { AppError } from "@/lib/errors";
import type { FlowDefinition, FlowRecord } from "@/lib/flows/types";
import type { rateLimitSchema } from "@/lib/contract/batch-options";
import type { z } from "zod";

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

/** A batch's rate limit as asked for (POST /api/batches `rate_limit`), and as kept in batches.rate_limit. */
export type RateLimitAsked = z.output<typeof rateLimitSchema>;

/** The limit as asked for, as stored and shown: only the fields given (a null is left out). */
export function rateLimitAsked(l: RateLimitAsked): RateLimitAsked {
  return {
    ...(l.requests_per_minute != null && { requests_per_minute: l.requests_per_minute }),
    ...(l.tokens_per_minute != null && { tokens_per_minute: l.tokens_per_minute }),
    ...(l.key != null && { key: l.key }),
  };
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
export function resolveRateLimit(batchId: string, asked: RateLimitAsked, declared: Map<string, DeclaredRates> = declaredRateLimits()): ResolvedRateLimit {
  const op = asked.key ? declared.get(asked.key) : undefined;
  const rpm = lower(op?.requests_per_minute, asked.requests_per_minute);
  const tpm = lower(op?.tokens_per_minute, asked.tokens_per_minute);
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
  await upsertRateLimitRow(client, { key: limit.key, requestsPerMinute: limit.requestsPerMinute, tokensPerMinute: limit.tokensPerMinute, batchId });
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

const RUNNABLE = new Set(["pending", "running"]);

/** One acquire: the key's epoch, how long to wait for the slot taken, and the batch's status. */
export async function acquireRateLimit(key: string, tokens: number, batchId: string, db: Queryable = getPool()) {
  const r = await takeRateLimitSlot(db, key, tokens, batchId, RECOVERY_PER_SECOND);
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
        const row = await rateLimitEpoch(getPool(), key, batchId);
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
  await refundRateLimitSlot(getPool(), p.key, p.estimate, p.epoch);
}

/** Corrects the token bucket by what the call really used (reportUsage) against its estimate. */
export async function settleUsage(p: Permit, usedTokens: number): Promise<void> {
  const diff = usedTokens - p.estimate;
  if (!Number.isFinite(diff) || diff === 0) return;
  await correctRateLimitTokens(getPool(), p.key, diff);
}

/**
 * The provider answered 429: with Retry-After the key pauses that long (no refill until then);
 * without it the key's rate halves (at most once a second, down to about 1 a minute). Either way
 * the slots already handed out are void: their waiters take new ones.
 */
export async function reportRateLimited(key: string, retryAfterMs: number | undefined): Promise<void> {
  const pause = retryAfterMs !== undefined && retryAfterMs > 0 ? retryAfterMs : null;
  await slowRateLimit(getPool(), key, pause, RECOVERY_PER_SECOND, DECREASE_SPACING_MS);
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

export async function readRateLimitState(batchId: string, key: string, shared: boolean, db: Queryable = getPool()): Promise<RateLimitState | null> {
  const r = await rateLimitRow(db, key, batchId, RECOVERY_PER_SECOND);
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
