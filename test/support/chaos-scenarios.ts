// The fault-injection scenarios behind `npm run chaos` and test/chaos/chaos.test.ts (same code, two
// sizes). Each runs one batch on real standalone worker processes against a real PostgreSQL,
// injects its fault, waits for the batch to end, and checks the invariants (verify-batch.ts). The
// batches that workers are killed or stopped under run at the default max_retries (0): a crash or a
// stop must not use up a record's retries.
import { waitFor } from "./wait";
import { chaosRoll } from "@/lib/flows/chaos";
import { getPool } from "@/lib/db/client";
import { createBatch, type CreateBatchInput } from "@/lib/engine";
import { registerChaosFlows } from "./chaos-flows";
import type { ChaosCluster } from "./cluster";
import { verifyBatch, type Check, type Expectation } from "./verify-batch";
import { WorkerFleet, type UnexpectedExit } from "./worker-processes";

export interface ChaosSize {
  /** jobs in the kill, restart, termination and graceful-restart batches */
  jobs: number;
  /** kill -9 (or stop gracefully) at least this many times */
  kills: number;
  /** and at most this many */
  maxKills: number;
  /** jobs in the hang batch */
  hangs: number;
  /** how long PostgreSQL stays down */
  outageMs: number;
  /** at least this many rounds of pg_terminate_backend() */
  terminations: number;
  /** and at most this many (then the batch is left to finish) */
  maxTerminations: number;
  /** flow delay per record, so a batch lasts long enough to be hit */
  delayMs: number;
  /** worker concurrency (and the batch's) */
  concurrency: number;
  /** how long a batch may take to finish after its faults */
  deadlineMs: number;
  /** the chunked batch (kill-chunked): records per call, calls at once (its concurrency and its worker's), and one call's delay */
  chunkSize: number;
  chunkCalls: number;
  chunkDelayMs: number;
}

export function chaosSize(jobs: number, quick: boolean): ChaosSize {
  return quick
    ? { jobs, kills: 3, maxKills: 4, hangs: 10, outageMs: 1500, terminations: 3, maxTerminations: 8, delayMs: 120, concurrency: 12, deadlineMs: 60_000, chunkSize: 25, chunkCalls: 4, chunkDelayMs: 1000 }
    : { jobs, kills: 5, maxKills: 10, hangs: 100, outageMs: 4000, terminations: 8, maxTerminations: Infinity, delayMs: 40, concurrency: 64, deadlineMs: 300_000, chunkSize: 50, chunkCalls: 16, chunkDelayMs: 1200 };
}

export interface ScenarioReport {
  name: string;
  jobs: number;
  seconds: number;
  injected: string;
  succeeded: number;
  failed: number;
  checks: Check[];
  ok: boolean;
  /** workers that died without being killed: their exit and last output */
  crashes: UnexpectedExit[];
}

export interface ScenarioContext {
  cluster: ChaosCluster;
  size: ChaosSize;
  log: (line: string) => void;
}

/** lease short enough that a killed worker's jobs come back within seconds */
const LEASE_MS = 2000;
const FAILURE_RATE = 0.01;

const randomBetween = (lo: number, hi: number) => lo + Math.random() * (hi - lo);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls with a deadline; errors count as "not yet" (the database may be down). */
export const waitUntil = <T,>(what: string, fn: () => Promise<T | null | undefined | false>, ms: number) => waitFor(what, fn, ms, 50);

interface BatchProgress {
  status: string;
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
}

async function progress(batchId: string): Promise<BatchProgress> {
  const { rows } = await getPool().query<BatchProgress>(
    `SELECT status::text, pending, running, succeeded, failed FROM batches WHERE id = $1`,
    [batchId],
  );
  return rows[0]!;
}

const finished = (p: BatchProgress) => ["completed", "failed", "cancelled"].includes(p.status);

async function waitFinished(batchId: string, ms: number): Promise<Check> {
  try {
    await waitUntil(`batch ${batchId} to finish`, async () => finished(await progress(batchId)), ms);
    return { name: "finished in time", ok: true, detail: `within ${Math.round(ms / 1000)} s` };
  } catch (err) {
    return { name: "finished in time", ok: false, detail: (err as Error).message };
  }
}

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, n: i, text: `record ${i}` }));

/** A chaos-flow batch with a deterministic share of records that always fail (1%), and a cost of 1 per attempt. */
async function chaosBatch(
  ctx: ScenarioContext,
  seed: string,
  maxRetries: number,
  extra: Partial<CreateBatchInput> = {},
  failureRate = FAILURE_RATE,
  delayMs = ctx.size.delayMs,
  flow = "chaos",
) {
  const recs = records(ctx.size.jobs);
  const batch = await createBatch({
    flow,
    name: `chaos: ${seed}`,
    parameters: { failure_rate: failureRate, seed, delay_ms: delayMs, cost_per_item: 1 },
    source: { kind: "records", records: recs, recordIdField: "id" },
    concurrency: ctx.size.concurrency,
    max_retries: maxRetries,
    retry_backoff_ms: 10,
    ...extra,
  });
  const doomed = new Set(recs.filter((r) => chaosRoll(seed, r.id) < failureRate).map((r) => r.id));
  const expectation: Expectation = {
    records: recs.length,
    succeeded: recs.length - doomed.size,
    failed: doomed.size,
    result: "chaos",
    costPerAttempt: 1,
    failedIds: doomed,
  };
  return { batch, expectation };
}

function crashCheck(fleet: WorkerFleet): Check {
  const c = fleet.unexpectedExits;
  return {
    name: "workers survived",
    ok: c.length === 0,
    detail: c.length
      ? c.map((e) => `pid ${e.pid} exited (code ${e.code}, signal ${e.signal}): ${e.output.trim().split("\n").slice(-6).join(" | ")}`).join("; ")
      : `no worker exited unless killed (${fleet.started} started)`,
  };
}

async function report(
  name: string,
  started: number,
  batchId: string,
  injected: string,
  expectation: Expectation,
  extra: Check[],
  fleet: WorkerFleet,
): Promise<ScenarioReport> {
  const checks = [...extra, ...(await verifyBatch(batchId, expectation))];
  const p = await progress(batchId);
  return {
    name,
    jobs: expectation.records,
    seconds: (Date.now() - started) / 1000,
    injected,
    succeeded: p.succeeded,
    failed: p.failed,
    checks,
    ok: checks.every((c) => c.ok),
    crashes: [...fleet.unexpectedExits],
  };
}

/** 1. kill -9 the worker at random moments (every 0.5-2 s), restarting it each time. */
export async function killWorkers(ctx: ScenarioContext): Promise<ScenarioReport> {
  const started = Date.now();
  const { size } = ctx;
  const { maxKills } = size;
  // no retries: a kill is not the flow's failure. It interrupts a job at most once, so no healthy
  // record runs out of interruptions
  const { batch, expectation } = await chaosBatch(ctx, "kill-9", 0, { max_interruptions: maxKills });
  const fleet = new WorkerFleet({ databaseUrl: ctx.cluster.url, concurrency: size.concurrency, leaseMs: LEASE_MS });
  let kills = 0;
  let cutOff = 0;
  try {
    let w = await fleet.spawn();
    while (kills < maxKills) {
      await pause(randomBetween(500, 2000));
      const p = await progress(batch.id);
      if (finished(p)) break;
      await fleet.kill9(w);
      kills++;
      cutOff += p.running;
      ctx.log(`kill -9 #${kills} (pid ${w.pid}) with ${p.running} jobs running, ${p.succeeded + p.failed} done`);
      w = await fleet.spawn();
    }
    const done = await waitFinished(batch.id, size.deadlineMs);
    const extra: Check[] = [
      done,
      { name: "kills injected", ok: kills >= size.kills && cutOff > 0, detail: `${kills} kills (want >= ${size.kills}), ~${cutOff} attempts cut off` },
      await interruptionsCheck(batch.id),
      crashCheck(fleet),
    ];
    return await report("kill -9 worker", started, batch.id, `${kills} kill -9 (~${cutOff} attempts cut)`, expectation, extra, fleet);
  } finally {
    await fleet.stopAll();
  }
}

/** 2. Stop PostgreSQL mid-batch and start it again on the same port: the workers must ride it out. */
export async function restartDatabase(ctx: ScenarioContext): Promise<ScenarioReport> {
  const started = Date.now();
  const { size } = ctx;
  const { batch, expectation } = await chaosBatch(ctx, "pg-restart", 6);
  const fleet = new WorkerFleet({ databaseUrl: ctx.cluster.url, concurrency: size.concurrency, leaseMs: LEASE_MS });
  try {
    await fleet.ensure(2);
    const before = await waitUntil(
      "a quarter of the batch done",
      async () => {
        const p = await progress(batch.id);
        return (p.succeeded + p.failed >= size.jobs / 4 || finished(p)) && p;
      },
      size.deadlineMs,
    );
    const outageStart = Date.now();
    await ctx.cluster.restart(size.outageMs);
    const outage = (Date.now() - outageStart) / 1000;
    ctx.log(`PostgreSQL down and up again in ${outage.toFixed(1)} s, with ${before.pending} pending, ${before.running} running`);
    // progress after the outage by the SAME processes proves they reconnected (none restarted yet)
    const resumed = await waitUntil(
      "progress after the restart",
      async () => {
        const p = await progress(batch.id);
        return (p.succeeded + p.failed > before.succeeded + before.failed + 10 || finished(p)) && p;
      },
      60_000,
    ).then(
      (p) => ({ name: "workers reconnected", ok: fleet.unexpectedExits.length === 0 && fleet.started === 2, detail: `${p.succeeded + p.failed - before.succeeded - before.failed} jobs done after the restart by the original ${fleet.started} workers` }),
      (err: Error) => ({ name: "workers reconnected", ok: false, detail: err.message }),
    );
    const survived = crashCheck(fleet);
    // a crashed worker is reported above; replace it so the rest of the invariants are still tested
    await fleet.ensure(2);
    const done = await waitFinished(batch.id, size.deadlineMs);
    const extra: Check[] = [
      done,
      { name: "outage hit mid-batch", ok: before.pending > 0 && !finished(before), detail: `${before.pending} pending, ${before.running} running at the stop` },
      resumed,
      survived,
    ];
    return await report("PostgreSQL restart", started, batch.id, `1 outage, ${outage.toFixed(1)} s`, expectation, extra, fleet);
  } finally {
    await fleet.stopAll();
  }
}

/** 3. A flow that hangs far past its timeout: every attempt times out, retries are counted, the batch ends. */
export async function hangPastTimeout(ctx: ScenarioContext): Promise<ScenarioReport> {
  const started = Date.now();
  const { size } = ctx;
  const maxRetries = 2;
  const timeoutMs = 300;
  const batch = await createBatch({
    flow: "sleep",
    name: "chaos: hang past timeout",
    parameters: { ms: 3_600_000 },
    source: { kind: "records", records: records(size.hangs), recordIdField: "id" },
    concurrency: Math.min(50, size.hangs),
    timeout_ms: timeoutMs,
    max_retries: maxRetries,
    retry_backoff_ms: 20,
  });
  const fleet = new WorkerFleet({ databaseUrl: ctx.cluster.url, concurrency: Math.min(50, size.hangs), leaseMs: LEASE_MS });
  try {
    await fleet.spawn();
    const done = await waitFinished(batch.id, size.deadlineMs);
    // every attempt wrote its timeout: one error line per attempt in the job's log
    const { rows } = await getPool().query<{ n: number }>(
      `SELECT count(*)::int AS n FROM jobs
       WHERE batch_id = $1 AND (SELECT count(*) FROM jsonb_array_elements(COALESCE(logs, '[]')) l
                                WHERE l->>'message' LIKE 'timeout:%') <> $2`,
      [batch.id, maxRetries + 1],
    );
    const extra: Check[] = [
      done,
      { name: "every attempt logged its timeout", ok: rows[0]!.n === 0, detail: `${rows[0]!.n} jobs without exactly ${maxRetries + 1} timeout lines` },
      crashCheck(fleet),
    ];
    return await report(
      "hang past timeout",
      started,
      batch.id,
      `${size.hangs} hangs x ${maxRetries + 1} attempts of ${timeoutMs} ms`,
      { records: size.hangs, succeeded: 0, failed: size.hangs, result: "any", failedCode: "timeout", failedAttempts: maxRetries + 1 },
      extra,
      fleet,
    );
  } finally {
    await fleet.stopAll();
  }
}

/** 4. Transient database errors: the workers' connections are terminated every 0.2-0.8 s while they run. */
export async function terminateConnections(ctx: ScenarioContext): Promise<ScenarioReport> {
  const started = Date.now();
  const { size } = ctx;
  const { batch, expectation } = await chaosBatch(ctx, "terminate-backend", 10);
  const fleet = new WorkerFleet({ databaseUrl: ctx.cluster.url, concurrency: size.concurrency, leaseMs: LEASE_MS });
  let rounds = 0;
  let terminated = 0;
  try {
    await fleet.ensure(2);
    while (rounds < size.maxTerminations) {
      await pause(randomBetween(200, 800));
      if (finished(await progress(batch.id))) break;
      const n = await ctx.cluster.terminateClients();
      if (n > 0) rounds++;
      terminated += n;
      // a worker that died is reported below; replace it so the rest of the invariants are still tested
      if (fleet.unexpectedExits.length) await fleet.ensure(2);
    }
    const done = await waitFinished(batch.id, size.deadlineMs);
    const extra: Check[] = [
      done,
      { name: "terminations injected", ok: rounds >= size.terminations, detail: `${terminated} connections in ${rounds} rounds (want >= ${size.terminations} rounds)` },
      crashCheck(fleet),
    ];
    return await report("terminate backends", started, batch.id, `${terminated} conns killed in ${rounds} rounds`, expectation, extra, fleet);
  } finally {
    await fleet.stopAll();
  }
}

/** 5. Workers stopped gracefully (SIGTERM or SIGINT) at random moments and started again. */
export async function gracefulRestarts(ctx: ScenarioContext): Promise<ScenarioReport> {
  const started = Date.now();
  const { size } = ctx;
  // no record may fail here: a stop hands back what it has not finished, and counts nothing. Jobs
  // long enough that the batch outlasts the stops (a stop and a restart take seconds; one worker can
  // run the whole batch, so it never waits for a restart)
  const delayMs = Math.max(size.delayMs, Math.ceil((size.kills * 5000 * size.concurrency) / size.jobs));
  const { batch, expectation } = await chaosBatch(ctx, "graceful-restart", 0, {}, 0, delayMs);
  // two workers, each with half the batch's slots: both run it, so either one's stop cuts work short.
  // Stops must not lean on leases: one long enough that a job a stop failed to hand back would only
  // come back as an interruption (and a loaded machine's pauses never lapse one)
  const fleet = new WorkerFleet({ databaseUrl: ctx.cluster.url, concurrency: Math.ceil(size.concurrency / 2), leaseMs: 10_000 });
  // a grace of 0 hands every running job back at once; 2 s lets them finish
  const spawn = () => fleet.spawn(Math.random() < 0.5 ? 0 : 2000);
  let stops = 0;
  let handedBack = 0;
  const badExits: string[] = [];
  try {
    await Promise.all([spawn(), spawn()]);
    while (stops < size.maxKills) {
      await pause(randomBetween(300, 1500));
      const p = await progress(batch.id);
      if (finished(p)) break;
      const w = fleet.alive()[Math.floor(Math.random() * fleet.alive().length)]!;
      const signal = Math.random() < 0.5 ? "SIGTERM" : "SIGINT";
      const code = await fleet.stop(w, signal);
      stops++;
      if (code !== 0) badExits.push(`pid ${w.pid} exited ${code} after ${signal}: ${w.output().trim().split("\n").slice(-3).join(" | ")}`);
      handedBack += Number(/stopped: (\d+) jobs handed back/.exec(w.output())?.[1] ?? 0);
      ctx.log(`${signal} #${stops} (pid ${w.pid}) with ${p.running} jobs running, ${p.succeeded + p.failed} done`);
      await spawn();
    }
    const done = await waitFinished(batch.id, size.deadlineMs);
    const extra: Check[] = [
      done,
      { name: "stops injected", ok: stops >= size.kills && handedBack > 0, detail: `${stops} stops (want >= ${size.kills}), ${handedBack} jobs handed back by them` },
      { name: "stopped workers exited cleanly", ok: badExits.length === 0, detail: badExits.join("; ") || `${stops} stops, each exit code 0` },
      await nothingCountedCheck(batch.id),
      crashCheck(fleet),
    ];
    return await report("graceful restart", started, batch.id, `${stops} SIGTERM/SIGINT (${handedBack} jobs handed back)`, expectation, extra, fleet);
  } finally {
    await fleet.stopAll();
  }
}

/**
 * The calls of a chunked batch the worker with this pid holds open now, and their jobs it has
 * started: what a kill -9 of it now cuts.
 */
async function openCallsOf(batchId: string, pid: number): Promise<{ calls: number; jobs: number }> {
  const { rows } = await getPool().query<{ calls: number; jobs: number }>(
    `SELECT count(DISTINCT c.call_id)::int AS calls, count(j.id)::int AS jobs
     FROM batch_calls c
     JOIN jobs j ON j.batch_id = c.batch_id AND j.call_id = c.call_id AND j.status = 'running'
                AND j.lease_owner = c.worker_id AND j.started_at IS NOT NULL
     WHERE c.batch_id = $1 AND c.open_jobs > 0
       AND c.worker_id = (SELECT id FROM workers WHERE pid = $2 ORDER BY started_at DESC LIMIT 1)`,
    [batchId, pid],
  );
  return rows[0]!;
}

/**
 * 6. kill -9 a worker of a chunked batch (chunk_size records per call, the calls leased through
 * their batch_calls rows) at random moments, each while it holds open calls of the batch with
 * started jobs, starting another each time.
 */
export async function killChunkedWorkers(ctx: ScenarioContext): Promise<ScenarioReport> {
  const started = Date.now();
  const { size } = ctx;
  const { maxKills } = size;
  // the flow is the harness's (test/support/chaos-flows.ts): its worker processes register it too
  registerChaosFlows();
  const { batch, expectation } = await chaosBatch(
    ctx,
    "kill-9-chunked",
    0,
    { max_interruptions: maxKills, chunk_size: size.chunkSize, concurrency: size.chunkCalls },
    FAILURE_RATE,
    size.chunkDelayMs,
    "chaos-chunk",
  );
  // two workers, each with half the batch's calls: the one left runs on, sweeps the killed one's
  // lapsed calls and claims their jobs again beside its own calls
  const fleet = new WorkerFleet({
    databaseUrl: ctx.cluster.url,
    concurrency: Math.ceil(size.chunkCalls / 2),
    leaseMs: LEASE_MS,
    script: "test/support/chaos-worker.ts",
  });
  let kills = 0;
  let callsCut = 0;
  let jobsCut = 0;
  try {
    await Promise.all([fleet.spawn(), fleet.spawn()]);
    while (kills < maxKills) {
      // from half a call to two and a half: some kills cut the first calls a worker claimed, some come
      // after calls ended (their outcomes written or in the outbox) and cut later ones
      await pause(randomBetween(0.5, 2.5) * size.chunkDelayMs);
      // the kill lands while calls run: wait until a worker holds one with started jobs, and kill it
      const hit = await waitUntil(
        "a worker to hold open calls",
        async () => {
          if (finished(await progress(batch.id))) return { w: null, calls: 0, jobs: 0 };
          for (const w of fleet.alive().sort(() => Math.random() - 0.5)) {
            const o = await openCallsOf(batch.id, w.pid);
            if (o.calls > 0) return { w, ...o };
          }
          return null;
        },
        20_000,
      ).catch(() => null);
      if (!hit?.w) break;
      await fleet.kill9(hit.w);
      kills++;
      callsCut += hit.calls;
      jobsCut += hit.jobs;
      const p = await progress(batch.id);
      ctx.log(`kill -9 #${kills} (pid ${hit.w.pid}) with ${hit.calls} calls open (${hit.jobs} jobs started in them), ${p.succeeded + p.failed} done`);
      await fleet.spawn();
    }
    const done = await waitFinished(batch.id, size.deadlineMs);
    const extra: Check[] = [
      done,
      {
        name: "kills landed on open calls",
        ok: kills >= size.kills && callsCut >= kills && jobsCut > 0,
        detail: `${kills} kills (want >= ${size.kills}), each with calls open: ${callsCut} calls, ${jobsCut} started jobs cut`,
      },
      await interruptionsCheck(batch.id),
      await countedOnceCheck(batch.id),
      await callsClosedCheck(batch.id, size.jobs / size.chunkSize),
      crashCheck(fleet),
    ];
    return await report(
      "kill -9 chunked worker",
      started,
      batch.id,
      `${kills} kill -9 (${callsCut} calls, ${jobsCut} jobs cut)`,
      expectation,
      extra,
      fleet,
    );
  } finally {
    await fleet.stopAll();
  }
}

/**
 * Nothing applied twice: one job_attempts row per attempt a job counts (none for a run lost to a
 * kill), exactly one of them its final outcome, and the batch's attempts and interruptions counters
 * equal to the jobs' sums.
 */
async function countedOnceCheck(batchId: string): Promise<Check> {
  const { rows } = await getPool().query<{
    job_attempts: number;
    rows: number;
    batch_attempts: number;
    job_interruptions: number;
    batch_interruptions: number;
    not_one_final: number;
  }>(
    `SELECT (SELECT COALESCE(sum(attempts), 0)::int FROM jobs WHERE batch_id = $1) AS job_attempts,
            (SELECT count(*)::int FROM job_attempts WHERE batch_id = $1) AS rows,
            b.attempts AS batch_attempts,
            (SELECT COALESCE(sum(interruptions), 0)::int FROM jobs WHERE batch_id = $1) AS job_interruptions,
            b.interruptions AS batch_interruptions,
            (SELECT count(*)::int FROM jobs j WHERE j.batch_id = $1 AND
               (SELECT count(*) FROM job_attempts a WHERE a.batch_id = j.batch_id AND a.job_id = j.id
                  AND a.outcome IN ('succeeded', 'failed')) <> 1) AS not_one_final
     FROM batches b WHERE b.id = $1`,
    [batchId],
  );
  const r = rows[0]!;
  return {
    name: "every outcome applied once",
    ok: r.job_attempts === r.rows && r.rows === r.batch_attempts && r.job_interruptions === r.batch_interruptions && r.not_one_final === 0,
    detail:
      `attempts: jobs ${r.job_attempts} / attempt rows ${r.rows} / batch ${r.batch_attempts}; ` +
      `interruptions: jobs ${r.job_interruptions} / batch ${r.batch_interruptions}; ${r.not_one_final} jobs without exactly one final attempt row`,
  };
}

/** A chunked batch that finished has no call rows left (none open, none at 0 waiting to be deleted). */
async function callsClosedCheck(batchId: string, fewestCalls: number): Promise<Check> {
  const { rows } = await getPool().query<{ rows: number; open: number; made: number }>(
    `SELECT (SELECT count(*)::int FROM batch_calls WHERE batch_id = $1) AS rows,
            (SELECT count(*)::int FROM batch_calls WHERE batch_id = $1 AND open_jobs <> 0) AS open,
            (SELECT next_call_id FROM batches WHERE id = $1) AS made`,
    [batchId],
  );
  const r = rows[0]!;
  return {
    name: "batch_calls closed",
    ok: r.rows === 0 && r.made >= fewestCalls,
    detail: `${r.rows} call rows left (${r.open} open); ${r.made} calls made (at least ${Math.ceil(fewestCalls)} without faults)`,
  };
}

/** After kills: the runs they cut are counted as interruptions (not attempts: max_retries is 0 and verifyBatch checks attempts). */
async function interruptionsCheck(batchId: string): Promise<Check> {
  const { rows } = await getPool().query<{ n: number; jobs: number }>(
    `SELECT COALESCE(sum(interruptions), 0)::int AS n, count(*) FILTER (WHERE interruptions > 0)::int AS jobs FROM jobs WHERE batch_id = $1`,
    [batchId],
  );
  const r = rows[0]!;
  return { name: "kills counted as interruptions", ok: r.n > 0, detail: `${r.n} interruptions on ${r.jobs} jobs` };
}

/** After graceful stops: no record failed, and no stop counted an attempt or an interruption. */
async function nothingCountedCheck(batchId: string): Promise<Check> {
  const { rows } = await getPool().query<{ failed: number; attempts: number; interrupted: number }>(
    `SELECT count(*) FILTER (WHERE status = 'failed')::int AS failed, count(*) FILTER (WHERE attempts <> 1)::int AS attempts,
            count(*) FILTER (WHERE interruptions <> 0)::int AS interrupted
     FROM jobs WHERE batch_id = $1`,
    [batchId],
  );
  const r = rows[0]!;
  return {
    name: "nothing failed or counted by a stop",
    ok: r.failed === 0 && r.attempts === 0 && r.interrupted === 0,
    detail: `${r.failed} failed, ${r.attempts} jobs with attempts other than 1, ${r.interrupted} with interruptions`,
  };
}

export const SCENARIOS = [killWorkers, restartDatabase, hangPastTimeout, terminateConnections, gracefulRestarts, killChunkedWorkers];

/** The per-scenario table, then every failed invariant with its detail. */
export function formatReports(reports: ScenarioReport[]): string {
  const head = ["scenario", "jobs", "seconds", "injected", "succeeded", "failed", "invariants"];
  const rows = reports.map((r) => [
    r.name,
    String(r.jobs),
    r.seconds.toFixed(1),
    r.injected,
    String(r.succeeded),
    String(r.failed),
    r.ok ? `OK (${r.checks.length})` : `FAILED (${r.checks.filter((c) => !c.ok).length}/${r.checks.length})`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  const out = [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)];
  for (const r of reports) {
    out.push("", `${r.name}:`);
    for (const c of r.checks) out.push(`  ${c.ok ? "ok    " : "FAILED"} ${c.name}: ${c.detail}`);
  }
  return out.join("\n");
}
