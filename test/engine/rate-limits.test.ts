// Rate limits kept in PostgreSQL: the bucket arithmetic of one acquire (refill, burst cap, wait),
// the reaction to 429s (pause, halve, climb back), the token correction; and a real worker against a
// provider on 127.0.0.1 that enforces its own limits: two batches sharing a key stay under it
// together with fair shares, Retry-After pauses the key, waiting burns no attempt and a pause hands
// waiting jobs back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { createBatch, getBatch, pauseBatch, type CreateBatchInput } from "@/lib/engine";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import {
  acquireRateLimit,
  readRateLimitState,
  reportRateLimited,
  resolveRateLimit,
  settleUsage,
  upsertRateLimit,
} from "@/lib/engine/rate-limits";
import { AppError } from "@/lib/errors";
import { startLimitedProvider, type LimitedProvider } from "@/test/support/limited-provider";
import { useTestDatabase } from "../helpers/db";
import { batchRow, waitFor } from "./helpers";

useTestDatabase();

const pool = () => getPool();
const row = async (key: string) =>
  (await pool().query(`SELECT *, extract(epoch FROM paused_until - now())::float8 * 1000 AS pause_left_ms FROM rate_limits WHERE key = $1`, [key])).rows[0] as {
    request_level: number;
    token_level: number;
    rate_fraction: number;
    epoch: number;
    pause_left_ms: number | null;
    window_tokens: number;
    last_tokens: number;
  };

async function makeKey(key: string, rpm: number | null, tpm: number | null = null) {
  const client = await pool().connect();
  try {
    await upsertRateLimit(client, "batch_none", { key, sharedKey: key, requestsPerMinute: rpm, tokensPerMinute: tpm });
  } finally {
    client.release();
  }
}

/** Moves the key's clocks back, as if `seconds` had passed since its last acquire. */
const age = (key: string, seconds: number) =>
  pool().query(
    `UPDATE rate_limits SET refilled_at = refilled_at - make_interval(secs => $2), fraction_at = fraction_at - make_interval(secs => $2) WHERE key = $1`,
    [key, seconds],
  );

describe("the bucket arithmetic", () => {
  it("admits a burst of half a second of rate, then makes each caller wait for its turn", async () => {
    await makeKey("t:burst", 600); // 10 a second, capacity 5
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) waits.push((await acquireRateLimit("t:burst", 0, "batch_none")).waitMs);
    expect(waits.slice(0, 5).every((w) => w === 0)).toBe(true);
    // then each waits 100 ms more than the one before (less the time between the two statements)
    expect(waits[7]).toBeGreaterThan(100);
    expect(waits[7]).toBeLessThanOrEqual(300);
    expect(waits[7]! - waits[6]!).toBeGreaterThan(50);
    expect(waits[7]! - waits[6]!).toBeLessThanOrEqual(100);
  });

  it("refills by elapsed time up to its capacity, never beyond", async () => {
    await makeKey("t:refill", 600);
    await pool().query(`UPDATE rate_limits SET request_level = -2 WHERE key = 't:refill'`);
    await age("t:refill", 0.5); // +5: level 3
    expect((await acquireRateLimit("t:refill", 0, "batch_none")).waitMs).toBe(0);
    const level = (await row("t:refill")).request_level;
    expect(level).toBeGreaterThanOrEqual(2);
    expect(level).toBeLessThan(2.5);
    await age("t:refill", 3600); // an hour idle refills to the capacity (5), not to 36,000
    await acquireRateLimit("t:refill", 0, "batch_none");
    expect((await row("t:refill")).request_level).toBeCloseTo(4, 5);
  });

  it("charges the token estimate and waits for tokens as for requests; the usage reported corrects it", async () => {
    await makeKey("t:tokens", null, 12_000); // 200 tokens a second, capacity 100
    const first = await acquireRateLimit("t:tokens", 250, "batch_none");
    expect(first.waitMs).toBe(0); // a call larger than the burst goes when the bucket is full...
    const second = await acquireRateLimit("t:tokens", 10, "batch_none");
    expect(second.waitMs).toBeGreaterThan(750); // ...and the next one waits for its debt: (150 + 10) / 200 s
    expect(second.waitMs).toBeLessThanOrEqual(800);
    const before = (await row("t:tokens")).token_level;
    await settleUsage({ key: "t:tokens", estimate: 10, epoch: second.epoch }, 70);
    expect((await row("t:tokens")).token_level).toBeCloseTo(before - 60, 5);
  });

  it("a 429 with Retry-After pauses the key: the next caller waits it out", async () => {
    await makeKey("t:pause", 6000);
    const { epoch } = await acquireRateLimit("t:pause", 0, "batch_none");
    await reportRateLimited("t:pause", 2000);
    const r = await row("t:pause");
    expect(r.epoch).toBe(epoch + 1);
    expect(r.pause_left_ms).toBeGreaterThan(1800);
    expect((await acquireRateLimit("t:pause", 0, "batch_none")).waitMs).toBeGreaterThan(1800);
  });

  it("a 429 without Retry-After halves the rate once per second, and the rate climbs back to the limit", async () => {
    await makeKey("t:aimd", 600);
    await reportRateLimited("t:aimd", undefined);
    await reportRateLimited("t:aimd", undefined); // the calls in flight with the first one: not halved again
    const state = async () => (await readRateLimitState("batch_none", "t:aimd", true))!;
    // (the rate climbs 3 a minute every second: what the statements between take shows up)
    const near = async (v: number) => {
      const current = (await state()).currentRequestsPerMinute!;
      expect(current).toBeGreaterThanOrEqual(v);
      expect(current).toBeLessThan(v + 6);
    };
    await near(300);
    expect((await state()).requestsPerMinute).toBe(600);
    await age("t:aimd", 20); // +5% of the limit per 10 s
    await near(360);
    await pool().query(`UPDATE rate_limits SET decreased_at = decreased_at - interval '2 seconds' WHERE key = 't:aimd'`);
    await reportRateLimited("t:aimd", undefined);
    await near(180);
    await age("t:aimd", 600);
    expect((await state()).currentRequestsPerMinute).toBe(600);
  });

  it("an operator's declared key cannot be raised by a batch; an undeclared key needs a rate", () => {
    const declared = new Map([["openai:m", { requests_per_minute: 500, tokens_per_minute: 200_000 }]]);
    expect(resolveRateLimit("b1", { key: "openai:m" }, declared)).toMatchObject({ key: "openai:m", requestsPerMinute: 500, tokensPerMinute: 200_000 });
    expect(resolveRateLimit("b1", { key: "openai:m", requests_per_minute: 9000 }, declared)).toMatchObject({ requestsPerMinute: 500 });
    expect(resolveRateLimit("b1", { key: "openai:m", requests_per_minute: 100 }, declared)).toMatchObject({ requestsPerMinute: 100 });
    expect(resolveRateLimit("b1", { requests_per_minute: 60 }, declared)).toMatchObject({ key: "batch:b1", sharedKey: null });
    expect(() => resolveRateLimit("b1", { key: "other:m" }, declared)).toThrow(AppError);
  });
});

describe("a worker against a provider that enforces its own limit", () => {
  let worker: WorkerHandle;
  let provider: LimitedProvider | null = null;
  beforeAll(async () => {
    worker = await startWorker({ mode: "in-process", concurrency: 32, leaseMs: 2000, pollMs: 50, maintenanceMs: 200, log: () => {} });
  });
  afterAll(async () => {
    await worker.stop(500);
    await provider?.close();
    delete process.env.BATCHBOARD_HTTP_ALLOWLIST;
  });

  async function useProvider(opts: Parameters<typeof startLimitedProvider>[0]) {
    await provider?.close();
    provider = await startLimitedProvider(opts);
    process.env.BATCHBOARD_HTTP_ALLOWLIST = new URL(provider.url).host;
    return provider;
  }

  const llmBatch = (tag: string, n: number, extra: Partial<CreateBatchInput>) =>
    createBatch({
      flow: "llm",
      parameters: { base_url: provider!.url, model: "m", system_prompt: tag, user_prompt: "{{record.text}}" },
      source: { kind: "records", records: Array.from({ length: n }, (_, i) => ({ id: `r${i}`, text: `record ${i} ${"x".repeat(40)}` })), recordIdField: "id" },
      shuffle: false,
      ...extra,
    });
  const finished = (id: string, ms = 30_000) => waitFor(`batch ${id} finished`, async () => ["completed", "failed"].includes((await batchRow(id)).status), ms);

  it("two batches sharing a key stay under its rate together, each with a fair share", async () => {
    const p = await useProvider({ requestsPerMinute: 600 }); // exactly 10 a second, burst 10
    const limit = { requests_per_minute: 600, key: "mock:shared" };
    const [a, b] = await Promise.all([
      llmBatch("A", 40, { concurrency: 8, rate_limit: limit, max_retries: 5 }),
      llmBatch("B", 40, { concurrency: 8, rate_limit: limit, max_retries: 5 }),
    ]);
    await Promise.all([finished(a.id), finished(b.id)]);
    const ok = p.requests.filter((r) => r.status === 200);
    const refused = p.requests.filter((r) => r.status === 429);
    expect(ok.length).toBe(80);
    // the provider's bucket never ran dry: the limit held across both batches
    expect(refused.map((r) => r.at - ok[0]!.at)).toEqual([]);
    // 80 calls at 10 a second after a burst of 5: at least ~7.5 s from first to last
    expect(ok[ok.length - 1]!.at - ok[0]!.at).toBeGreaterThan(7000);
    // fair shares: while both ran, neither took much more than half
    const firstDone = Math.min(...["A", "B"].map((t) => Math.max(...ok.filter((r) => r.tag === t).map((r) => r.at))));
    const both = ok.filter((r) => r.at <= firstDone);
    const shareA = both.filter((r) => r.tag === "A").length / both.length;
    expect(shareA).toBeGreaterThan(0.35);
    expect(shareA).toBeLessThan(0.65);
    // no attempt was burned waiting
    const { rows } = await getPool().query<{ attempts: number }>(`SELECT max(attempts)::int AS attempts FROM jobs WHERE batch_id = ANY($1)`, [[a.id, b.id]]);
    expect(rows[0]!.attempts).toBe(1);
    // a job's duration is its call's, not its wait for the limit (the calls answer at once; the last
    // ones waited seconds for their turn)
    const durations = await getPool().query<{ ms: number }>(`SELECT max(duration_ms)::int AS ms FROM job_attempts WHERE batch_id = ANY($1)`, [[a.id, b.id]]);
    expect(durations.rows[0]!.ms).toBeLessThan(500);
    const got = await getBatch(a.id);
    expect(got.rateLimitState).toMatchObject({ key: "mock:shared", requestsPerMinute: 600, sharedWith: 0 });
  }, 60_000);

  it("the same batches without a limit are refused by the provider (what the limit prevents)", async () => {
    const p = await useProvider({ requestsPerMinute: 600 });
    const a = await llmBatch("A", 40, { concurrency: 8, max_retries: 20, retry_backoff_ms: 10 });
    await finished(a.id);
    expect(p.requests.filter((r) => r.status === 429).length).toBeGreaterThan(5);
  }, 60_000);

  it("a 429 with Retry-After pauses the whole key: no call goes out until it has passed", async () => {
    const p = await useProvider({ requestsPerMinute: 60_000, reject429First: 1, forcedRetryAfterSeconds: 1 });
    const a = await llmBatch("A", 30, { concurrency: 4, rate_limit: { requests_per_minute: 6000 }, max_retries: 3 });
    await finished(a.id);
    const refusal = p.requests.find((r) => r.status === 429)!;
    // calls already under way when the 429 came back may land; none starts after it within the pause
    const during = p.requests.filter((r) => r.at > refusal.at + 150 && r.at < refusal.at + 950);
    expect(during).toEqual([]);
    expect(p.requests.filter((r) => r.status === 200).length).toBe(30);
  }, 60_000);

  it("a 429 without Retry-After lowers the key's current rate, seen in its state", async () => {
    await useProvider({ requestsPerMinute: 60_000, reject429First: 1, retryAfter: false });
    const a = await llmBatch("A", 5, { concurrency: 1, rate_limit: { requests_per_minute: 6000 }, max_retries: 3, retry_backoff_ms: 10 });
    await finished(a.id);
    const s = (await getBatch(a.id)).rateLimitState!;
    expect(s.requestsPerMinute).toBe(6000);
    expect(s.currentRequestsPerMinute).toBeGreaterThanOrEqual(3000);
    expect(s.currentRequestsPerMinute).toBeLessThan(3100);
  }, 60_000);

  it("corrects the tokens charged by the usage the flow reports", async () => {
    await useProvider({ requestsPerMinute: 60_000, completionTokens: 50 });
    const a = await llmBatch("A", 6, { concurrency: 2, rate_limit: { tokens_per_minute: 1_000_000 } });
    await finished(a.id);
    // each call: its prompt ("A" + the record's text) / 4, rounded up, plus 50 completion tokens
    const prompt = (i: number) => Math.ceil(("A" + "\n" + `record ${i} ${"x".repeat(40)}`).length / 4);
    const used = Array.from({ length: 6 }, (_, i) => prompt(i) + 50).reduce((x, y) => x + y, 0);
    const r = await row(`batch:${a.id}`);
    expect(r.window_tokens + r.last_tokens).toBe(used);
  }, 60_000);

  it("jobs waiting on their limit burn no attempt, and a pause hands them back at once", async () => {
    await useProvider({ requestsPerMinute: 60_000 });
    const a = await llmBatch("A", 20, { concurrency: 4, rate_limit: { requests_per_minute: 30 } }); // one every 2 s
    await waitFor("the first call made", async () => Number((await batchRow(a.id)).succeeded) >= 1);
    await waitFor("jobs waiting in their slots", async () => (await batchRow(a.id)).running >= 2);
    const t0 = Date.now();
    await pauseBatch(a.id);
    await waitFor("the waiting jobs handed back", async () => (await batchRow(a.id)).running === 0, 5000);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(Number((await batchRow(a.id)).succeeded)).toBeLessThan(5);
    const { rows } = await getPool().query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE batch_id = $1 AND status = 'pending' AND attempts > 0`, [a.id]);
    expect(rows[0]!.n).toBe(0);
  }, 30_000);
});
