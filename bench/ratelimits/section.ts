// Rate limits against a provider that enforces its own: a mock on 127.0.0.1 (test/support/
// limited-provider.ts) admitting exactly R requests and T tokens a minute as token buckets, 429 with
// Retry-After beyond them. One batch with rate_limit R, two batches sharing a key of R, and the same
// batch without rate_limit, each run by one worker process on its own database. Rates are counted
// by the provider, over the steady state (from 2 s after the first request, past the starting burst).
import type { BenchOptions } from "../lib/args";
import { round, runChild } from "../lib/child";
import type { BenchServer } from "../lib/pg";
import type { Report, Target } from "../lib/report";
import { failedRow, type Row } from "../lib/types";
import { startLimitedProvider, type ProviderRequest } from "../../test/support/limited-provider";
import type { RateLimitBatchSpec } from "./child";

const R = 3000;
const T = 200_000;
const LATENCY_MS = 20;
const WORKER_CONCURRENCY = 32;
const SECTION = "rate limits";

interface Measured {
  requests: number;
  ok: number;
  refused: number;
  seconds: number;
  /** successful requests a minute over the steady state */
  perMinute: number;
  tokensPerMinute: number;
  byTag: Map<string, ProviderRequest[]>;
  failed: number;
}

/** Successful requests a minute between the steady state's first and last request (spacing, not a count in a window). */
function steadyPerMinute(ok: ProviderRequest[]): { requests: number; tokens: number } {
  if (ok.length < 3) return { requests: 0, tokens: 0 };
  const from = ok[0]!.at + 2000;
  const steady = ok.filter((r) => r.at >= from);
  if (steady.length < 3) return { requests: 0, tokens: 0 };
  const span = (steady[steady.length - 1]!.at - steady[0]!.at) / 60_000;
  const tokens = steady.slice(1).reduce((a, r) => a + r.tokens, 0);
  return { requests: (steady.length - 1) / span, tokens: tokens / span };
}

async function runScenario(pgs: BenchServer, db: string, batches: RateLimitBatchSpec[], log: (l: string) => void): Promise<Measured> {
  const provider = await startLimitedProvider({ requestsPerMinute: R, tokensPerMinute: T, latencyMs: LATENCY_MS });
  try {
    const url = await pgs.createDatabase(db);
    const result = await runChild<{ failed: number }>(
      "ratelimits/child.ts",
      { url, providerUrl: provider.url, batches, workerConcurrency: WORKER_CONCURRENCY },
      {
        env: { DATABASE_URL: url, BATCHBOARD_LOAD_DEMO: "0", BATCHBOARD_HTTP_ALLOWLIST: new URL(provider.url).host },
        label: `rate limits ${db}`,
        timeoutMs: 10 * 60_000,
      },
    );
    const all = provider.requests;
    const ok = all.filter((r) => r.status === 200);
    const steady = steadyPerMinute(ok);
    const byTag = new Map<string, ProviderRequest[]>();
    for (const r of ok) byTag.set(r.tag ?? "", [...(byTag.get(r.tag ?? "") ?? []), r]);
    const seconds = ok.length ? (ok[ok.length - 1]!.at - ok[0]!.at) / 1000 : 0;
    log(`${db}: ${ok.length} answered, ${all.length - ok.length} refused (429) in ${seconds.toFixed(1)} s`);
    return {
      requests: all.length,
      ok: ok.length,
      refused: all.length - ok.length,
      seconds,
      perMinute: steady.requests,
      tokensPerMinute: steady.tokens,
      byTag,
      failed: result.failed,
    };
  } finally {
    await provider.close();
    await pgs.dropDatabase(db).catch(() => {});
  }
}

const pct = (v: number) => `${v.toFixed(1)}%`;

function row(setting: string, m: Measured, notes: string[]): Row {
  return {
    section: SECTION,
    system: "batchboard",
    setting,
    jobs: m.ok,
    seconds: round(m.seconds, 2),
    perSecond: round(m.perMinute),
    unit: "requests/min",
    notes: [
      `${pct((m.perMinute / R) * 100)} of R`,
      `429s ${pct((m.refused / Math.max(1, m.requests)) * 100)} (${m.refused} of ${m.requests} requests)`,
      `${Math.round(m.tokensPerMinute).toLocaleString("en-US")} tokens/min (${pct((m.tokensPerMinute / T) * 100)} of T)`,
      ...notes,
      ...(m.failed ? [`${m.failed} records failed`] : []),
    ].join("; "),
  };
}

function check(name: string, goal: string, value: number | null, ok: (v: number) => boolean, show: (v: number) => string): Target {
  if (value === null || !Number.isFinite(value)) return { name, goal, value: "-", status: "NOT MEASURED" };
  return { name, goal, value: show(value), status: ok(value) ? "MET" : "MISSED" };
}

export async function runRateLimitSection(pgs: BenchServer, opts: BenchOptions, report: Report, log: (l: string) => void): Promise<Target[]> {
  const records = opts.quick ? 300 : 1000;
  const limit = { requests_per_minute: R, tokens_per_minute: T };
  log(`rate limits: provider admits ${R.toLocaleString("en-US")} requests/min and ${T.toLocaleString("en-US")} tokens/min; ${records} records per row, worker concurrency ${WORKER_CONCURRENCY}`);
  const targets: Target[] = [];
  let single: Measured | null = null;
  let shared: Measured | null = null;
  try {
    single = await runScenario(pgs, "bench_rl_single", [{ tag: "A", records, concurrency: 16, rateLimit: limit }], log);
    report.rows.push(row(`1 batch, rate_limit R = ${R.toLocaleString("en-US")}/min`, single, []));
  } catch (err) {
    report.rows.push(failedRow(log, { section: SECTION, system: "batchboard", setting: "1 batch with rate_limit", unit: "requests/min" }, err));
  }
  let shares: number[] = [];
  try {
    const key = { ...limit, key: "mock:bench" };
    shared = await runScenario(
      pgs,
      "bench_rl_shared",
      [
        { tag: "A", records: records / 2, concurrency: 16, rateLimit: key },
        { tag: "B", records: records / 2, concurrency: 16, rateLimit: key },
      ],
      log,
    );
    // each batch's share of the requests answered while both were running
    const a = shared.byTag.get("A") ?? [];
    const b = shared.byTag.get("B") ?? [];
    const bothUntil = Math.min(a[a.length - 1]?.at ?? 0, b[b.length - 1]?.at ?? 0);
    const inBoth = (xs: ProviderRequest[]) => xs.filter((r) => r.at <= bothUntil).length;
    const total = inBoth(a) + inBoth(b);
    shares = total ? [(inBoth(a) / total) * 100, (inBoth(b) / total) * 100] : [];
    const perBatch = [a, b].map((xs) => steadyPerMinute(xs).requests);
    report.rows.push(
      row(`2 batches sharing key R = ${R.toLocaleString("en-US")}/min (combined)`, shared, [
        `shares while both ran: A ${pct(shares[0] ?? 0)}, B ${pct(shares[1] ?? 0)}`,
        `A ${Math.round(perBatch[0]!)}/min, B ${Math.round(perBatch[1]!)}/min`,
      ]),
    );
  } catch (err) {
    report.rows.push(failedRow(log, { section: SECTION, system: "batchboard", setting: "2 batches sharing a key", unit: "requests/min" }, err));
  }
  try {
    const none = await runScenario(pgs, "bench_rl_none", [{ tag: "A", records, concurrency: 16 }], log);
    report.rows.push(row("1 batch, no rate_limit (429s retried)", none, []));
  } catch (err) {
    report.rows.push(failedRow(log, { section: SECTION, system: "batchboard", setting: "1 batch without rate_limit", unit: "requests/min" }, err));
  }
  targets.push(
    check("rate limit: one batch reaches R", ">= 95% of R", single ? (single.perMinute / R) * 100 : null, (v) => v >= 95, pct),
    check("rate limit: one batch's requests answered 429", "<= 1%", single ? (single.refused / Math.max(1, single.requests)) * 100 : null, (v) => v <= 1, pct),
    // the steady rate is measured from request spacing: 0.5% allows for the clocks, not for a burst
    check("rate limit: two batches sharing a key, together", "<= R (100%, 0.5% measuring)", shared ? (shared.perMinute / R) * 100 : null, (v) => v <= 100.5, pct),
    check("rate limit: two batches sharing a key, 429s", "<= 1%", shared ? (shared.refused / Math.max(1, shared.requests)) * 100 : null, (v) => v <= 1, pct),
    check("rate limit: fair shares of a shared key", "each 40-60% while both run", shares.length ? Math.min(...shares) : null, (v) => v >= 40, (v) => `smaller share ${pct(v)}`),
  );
  return targets;
}
