// The worker: claims jobs in batches, runs their flows, writes outcomes in batches, renews leases by
// heartbeat, and does the periodic maintenance. One module, three uses: in the Next.js server
// (in-process), `npm run worker` (standalone), and POST /api/worker/run (bounded, for cron).
import os from "node:os";
import { getConfig } from "@/lib/config";
import { getPool } from "@/lib/db/client";
import { storableJson, storableText } from "@/lib/db/storable";
import { claimJobs, type ClaimedJob } from "@/lib/engine/claim";
import { flushOutcomes, type Outcome } from "@/lib/engine/complete";
import { notifyBatch, notifyPrompts, subscribeEvents } from "@/lib/engine/events";
import { newId } from "@/lib/engine/ids";
import { deliverWebhooks, expireLeases, pruneWorkers, sweepOrphanInlineDatasets, sweepRetention } from "@/lib/engine/maintenance";
import { expirePrompts } from "@/lib/engine/prompts";
import type { LogLine } from "@/lib/engine/types";
import { getFlow } from "@/lib/flows/registry";
import { redactSecrets, redactSecretsInJson } from "@/lib/flows/secrets";
import { sweepOpenAIBatches } from "@/lib/openai/sweep";
import { FlowError, type AskOptions, type FlowContext, type FlowDefinition } from "@/lib/flows/types";
import packageJson from "@/package.json";

export type WorkerMode = "in-process" | "standalone" | "route";

export interface WorkerOptions {
  mode: WorkerMode;
  /** jobs this worker runs at once, across batches (default BATCHBOARD_WORKER_CONCURRENCY) */
  concurrency?: number;
  /** lease length (default BATCHBOARD_LEASE_MS); heartbeats renew it every third of it */
  leaseMs?: number;
  log?: (line: string) => void;
  /** how often to look for work when idle and no NOTIFY woke us (default 500 ms) */
  pollMs?: number;
  /** how often to run maintenance: expired leases and prompts, webhooks (default 1000 ms) */
  maintenanceMs?: number;
}

export interface WorkerHandle {
  id: string;
  /** stop claiming; running jobs get `graceMs` to finish, the rest are released (attempt not counted) */
  stop(graceMs?: number): Promise<void>;
  readonly stats: { processed: number; failed: number; running: number };
}

interface BatchInfo {
  flow: string;
  parameters: unknown;
  interactive: boolean;
  maxRetries: number;
  retryBackoffMs: number;
  timeoutMs: number | null;
}

/** Thrown by ctx.ask() in an interactive batch to park the job until the prompt is answered. */
class ParkSignal extends Error {
  override name = "ParkSignal";
}

type AbortKind = "timeout" | "lost" | "shutdown";
class AbortReason extends Error {
  constructor(readonly kind: AbortKind, message: string) {
    super(message);
  }
}

type AnswerInfo = { answeredBy: string | null; answeredAt: Date | null };

/**
 * One attempt of one claimed job, and the context its flow sees. One object with a few bound
 * methods, and an AbortController only when a flow reads `signal`: at thousands of jobs a second the
 * per-job garbage is what sizes the worker's heap.
 */
class Attempt implements FlowContext {
  readonly started = Date.now();
  info: BatchInfo | null = null;
  cost = 0;
  logs: LogLine[] = [];
  answers: Map<string, AnswerInfo> | null = null;
  /** why the attempt was aborted (timeout, lost, shutdown); set once */
  reason: AbortReason | null = null;
  timer: NodeJS.Timeout | null = null;
  /** settles when the attempt is over and its slot is free (set by start) */
  done!: Promise<void>;
  private controller: AbortController | null = null;
  private rejectRun: ((reason: unknown) => void) | null = null;

  constructor(
    readonly job: ClaimedJob,
    private readonly asker: (a: Attempt, opts: AskOptions<unknown>) => Promise<unknown>,
  ) {
    // bound: a flow may take them off ctx (`const { log } = ctx`)
    this.log = this.log.bind(this);
    this.reportCost = this.reportCost.bind(this);
    this.ask = this.ask.bind(this);
    this.answerInfo = this.answerInfo.bind(this);
  }

  get params(): unknown {
    return this.info?.parameters;
  }
  get batchId(): string {
    return this.job.batch_id;
  }
  get attempt(): number {
    return this.job.attempts;
  }
  get interactive(): boolean {
    return this.info?.interactive ?? false;
  }
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Ends the attempt now: the flow's signal aborts and its result, if it ever comes, is ignored. */
  abort(reason: AbortReason): void {
    if (this.reason) return;
    this.reason = reason;
    this.controller?.abort(reason);
    this.rejectRun?.(reason);
  }

  /**
   * Runs the flow until it settles or the attempt is aborted, whichever is first: a flow that
   * ignores its signal cannot hold a slot past its timeout or a cancel.
   */
  run(flow: FlowDefinition): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.reason) return reject(this.reason);
      this.rejectRun = reject;
      flow.run({ id: this.job.record_id, data: this.job.data, position: this.job.position }, this).then(resolve, reject);
    });
  }

  log(message: string, level: LogLine["level"] = "info"): void {
    if (this.logs.length < MAX_LOG_LINES) this.logs.push({ at: new Date().toISOString(), level, message: storableLine(message) });
  }
  reportCost(amount: number): void {
    if (Number.isFinite(amount) && amount > 0) this.cost += amount;
  }
  ask<T = unknown>(opts: AskOptions<T>): Promise<T> {
    return this.asker(this, opts as AskOptions<unknown>) as Promise<T>;
  }
  answerInfo(key: string): AnswerInfo | null {
    return this.answers?.get(storableText(key)) ?? null;
  }

  outcome(o: Partial<Outcome> & Pick<Outcome, "status">): Outcome {
    return {
      id: this.job.id,
      attempts: this.job.attempts,
      interruptions: this.job.interruptions,
      cost: this.cost,
      logs: this.logs.length ? JSON.stringify(this.logs) : null,
      delayMs: 0,
      durationMs: Date.now() - this.started,
      ...o,
    };
  }

  failure(flowErr: { code: string; message: string; retryable: boolean; retryAfterMs?: number; result?: unknown }): Outcome {
    const err = { ...flowErr, code: storableText(String(flowErr.code)), message: storableText(redactSecrets(String(flowErr.message))) };
    const info = this.info;
    // a manual retry gives max_retries a fresh allowance: count from the attempts before it
    const sinceRetry = this.job.attempts - this.job.retry_base;
    const retry = err.retryable && info !== null && sinceRetry <= info.maxRetries;
    this.logs.push({ at: new Date().toISOString(), level: "error", message: storableLine(`${err.code}: ${err.message}`) });
    if (retry) {
      return this.outcome({
        status: "pending",
        error: { code: err.code, message: err.message, retryable: true },
        delayMs: err.retryAfterMs ?? backoffMs(info.retryBackoffMs, sinceRetry),
      });
    }
    let kept: string | undefined;
    try {
      kept = flowErr.result === undefined ? undefined : (JSON.stringify(flowErr.result) as string | undefined);
    } catch {
      kept = undefined; // a value JSON cannot hold is not kept; the error still is
    }
    return this.outcome({
      status: "failed",
      error: { code: err.code, message: err.message, retryable: err.retryable },
      ...(kept === undefined ? {} : { result: storableResult(kept) }),
    });
  }
}

const MAX_LOG_LINES = 100;
const MAX_LOG_CHARS = 2000;

// Everything a job stores passes through here or storableResult: flows' secrets are redacted first
// (before any cut, so half a secret is never kept), then made storable.
const storableLine = (message: unknown) => storableText(redactSecrets(String(message)).slice(0, MAX_LOG_CHARS));
const storableResult = (json: string) => storableJson(redactSecretsInJson(json));
const FLUSH_MAX = 500;
const RETENTION_EVERY_MS = 10 * 60_000;

function backoffMs(base: number, attempt: number): number {
  const d = Math.min(base * 2 ** (attempt - 1), 3_600_000);
  // "equal jitter": half fixed, half random, so retries of many jobs spread out
  return d / 2 + Math.random() * (d / 2);
}

export async function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const config = getConfig();
  const id = newId("wrk");
  const concurrency = Math.max(1, options.concurrency ?? config.BATCHBOARD_WORKER_CONCURRENCY);
  const leaseMs = Math.max(200, options.leaseMs ?? config.BATCHBOARD_LEASE_MS);
  const pollMs = options.pollMs ?? 500;
  const maintenanceMs = options.maintenanceMs ?? 1000;
  const log = options.log ?? ((line: string) => console.log(`[worker ${id}] ${line}`));
  const pool = getPool();

  await pool.query(
    `INSERT INTO workers (id, host, pid, mode, version, concurrency, lease_until)
     VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7::float8 / 1000))`,
    [id, os.hostname(), process.pid, options.mode, packageJson.version, concurrency, leaseMs],
  );

  const running = new Map<number, Attempt>();
  // Reservations: jobs claimed ahead, per batch, in claim order. One starts when one of this worker's
  // jobs of the same batch ends (its slot is handed over: the batch's `running` counter keeps
  // counting the ended job until its outcome is written, and the start is reported in that same
  // write or an earlier one), so the batch's concurrency holds across workers without a round trip
  // between one job and the next.
  // (a batch's queue leaves the map when it empties)
  const reservations = new Map<string, ClaimedJob[]>();
  // reservations started here whose start the database has not recorded yet (started_at NULL there)
  const promotedUnreported = new Set<number>();
  const batchCache = new Map<string, BatchInfo>();
  const stats = { processed: 0, failed: 0, running: 0 };
  let stopping = false;

  // ---- wake-ups: a promise the claim loop waits on, resolved by NOTIFY, a freed slot, or the poll timer
  let wake: (() => void) | null = null;
  const wakeUp = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const waitForWake = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        wake = null;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  // ---- serialised DB writes of this worker (flushes and heartbeats touch the same job rows)
  let writeChain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = writeChain.then(fn, fn);
    writeChain = p.catch(() => {});
    return p;
  };

  // ---- completions: buffered until the next turn of the event loop and written many per statement
  const buffer: Outcome[] = [];
  // Flushed on the next turn of the event loop: every outcome settled in this turn goes in one write,
  // and while a write is in flight the next ones gather behind it (the serial chain), so the batch
  // size follows the load by itself, without a timer's fixed delay on every cycle.
  let flushScheduled = false;
  let flushFailures = 0;
  const scheduleFlush = () => {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      void flush();
    });
  };
  const flush = (): Promise<void> =>
    serial(async () => {
      if (buffer.length === 0) return;
      const items = buffer.splice(0, FLUSH_MAX);
      flushing += items.length;
      // the starts of reservations go in the same write as (or before) the outcomes of the jobs whose
      // slots they took; an outcome says whether the database still holds its job as a reservation
      // (a reservation given back unstarted says so itself; a started one whose outcome is here is
      // reported by the outcome alone: one statement must not write a job row twice)
      for (const o of items) o.reserved = o.reserved === true || promotedUnreported.has(o.id);
      const inItems = new Set(items.map((o) => o.id));
      const promoted = [...promotedUnreported].filter((p) => !inItems.has(p));
      // claim the next jobs in the same statement: the slots these outcomes free (the batch's
      // `running` counter) are refilled before anyone else waits on them, in one round trip
      const want = stopping ? 0 : Math.max(0, freeSlots(items.length));
      const reserve = stopping ? undefined : reservationsWanted(items);
      const worth = (want > 0 && (want >= Math.ceil(concurrency / 8) || running.size === 0)) || reserve !== undefined;
      if (worth) reserved += want;
      try {
        const res = await flushOutcomes(id, items, worth ? { want, leaseMs, min: Math.ceil(concurrency / 8), reserve } : null, promoted);
        if (worth) reserved -= want;
        for (const p of promoted) promotedUnreported.delete(p);
        for (const o of items) promotedUnreported.delete(o.id);
        for (const j of res.claimed) start(j);
        flushFailures = 0;
        for (const s of res.settled) {
          notifyBatch(s.id, s.status);
          // paused, stopped, cancelled or ended: its reservations were taken back with the change
          if (s.status !== "pending" && s.status !== "running") reservations.delete(s.id);
        }
        // stopped by these outcomes (error policy, threshold, budget): its reservations were skipped with it
        for (const b of res.stopped) reservations.delete(b);
        // another batch waits for slots (reservations would keep them on this one for another round),
        // or the worker is stopping: all go back; otherwise those with no slot to start in
        releaseReservations(res.contended || stopping);
        for (const o of items) {
          unflushed.delete(o.id);
          outcomeBatch.delete(o.id);
        }
        flushing -= items.length;
        wakeUp();
      } catch (err) {
        if (worth) reserved -= want;
        flushing -= items.length;
        // keep them; the database may be back in a moment (if not, the leases expire and the fence
        // rejects these late writes: the jobs run again elsewhere)
        buffer.unshift(...items);
        flushFailures++;
        log(`flush failed (${items.length} outcomes): ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** flushFailures, 5000)));
      }
      if (buffer.length) scheduleFlush();
    });
  // outcomes written or being written; their leases are still renewed until the write lands
  const unflushed = new Set<number>();
  let flushing = 0;
  /** slots promised to a claim in flight (the loop's or a flush's) */
  let reserved = 0;
  /**
   * At most `concurrency` flows at once, and at most as many outcomes again waiting to be written.
   * `settling` outcomes are being written by the caller itself and free their place when it commits.
   */
  const freeSlots = (settling = 0) =>
    Math.min(concurrency - running.size, 2 * concurrency - running.size - buffer.length - (flushing - settling)) - reserved;
  const complete = (outcome: Outcome) => {
    unflushed.add(outcome.id);
    buffer.push(outcome);
    scheduleFlush();
  };

  /**
   * Reservations to ask for with these outcomes: per batch, as many as this worker's jobs of it (those
   * running now and those whose outcomes go in this write) less those already reserved here.
   */
  function reservationsWanted(items: readonly Outcome[]): Map<string, number> | undefined {
    const held = new Map<string, number>();
    for (const a of running.values()) held.set(a.job.batch_id, (held.get(a.job.batch_id) ?? 0) + 1);
    for (const o of items) {
      const b = outcomeBatch.get(o.id);
      if (b && o.status !== "waiting_input" && !o.release) held.set(b, (held.get(b) ?? 0) + 1);
    }
    let out: Map<string, number> | undefined;
    for (const [b, n] of held) {
      const want = Math.min(n, concurrency) - (reservations.get(b)?.length ?? 0);
      if (want > 0) (out ??= new Map()).set(b, want);
    }
    return out;
  }
  // the batch of each outcome still to be written (an Outcome carries only the job id)
  const outcomeBatch = new Map<number, string>();

  /** Starts the next reservation of `batchId` in a slot one of this worker's jobs of it just freed. */
  function promote(batchId: string): void {
    const queue = reservations.get(batchId);
    const job = queue?.shift();
    if (!job) return;
    if (queue!.length === 0) reservations.delete(batchId);
    promotedUnreported.add(job.id);
    run(job);
  }

  /**
   * Gives reservations back unstarted: all of them, or only those with no job of their batch running
   * here (they have no slot to start in).
   */
  function releaseReservations(all: boolean): void {
    if (reservations.size === 0) return;
    const busy = new Set<string>();
    if (!all) for (const a of running.values()) busy.add(a.job.batch_id);
    for (const [b, queue] of reservations) {
      if (busy.has(b)) continue;
      reservations.delete(b);
      for (const j of queue) release(j, true);
    }
  }

  /** Gives a claimed job back unstarted: its attempt does not count. */
  function release(j: ClaimedJob, asReservation = j.reserved): void {
    outcomeBatch.set(j.id, j.batch_id);
    complete({ id: j.id, attempts: j.attempts, interruptions: j.interruptions, status: "pending", release: true, reserved: asReservation, cost: 0, logs: null, delayMs: 0, durationMs: 0 });
  }

  // a batch's first claim starts many jobs at once: they share one read of its row
  const loadingInfo = new Map<string, Promise<BatchInfo | null>>();
  function loadBatchInfo(batchId: string): Promise<BatchInfo | null> {
    let p = loadingInfo.get(batchId);
    if (!p) {
      p = readBatchInfo(batchId).finally(() => loadingInfo.delete(batchId));
      loadingInfo.set(batchId, p);
    }
    return p;
  }

  async function readBatchInfo(batchId: string): Promise<BatchInfo | null> {
    const { rows } = await pool.query<{
      flow: string;
      parameters: unknown;
      interactive: boolean;
      max_retries: number;
      retry_backoff_ms: number;
      timeout_ms: number | null;
    }>(`SELECT flow, parameters, interactive, max_retries, retry_backoff_ms, timeout_ms FROM batches WHERE id = $1`, [batchId]);
    const r = rows[0];
    if (!r) return null;
    const info: BatchInfo = {
      flow: r.flow,
      parameters: r.parameters,
      interactive: r.interactive,
      maxRetries: r.max_retries,
      retryBackoffMs: r.retry_backoff_ms,
      timeoutMs: r.timeout_ms,
    };
    if (batchCache.size > 1000) batchCache.clear();
    batchCache.set(batchId, info);
    return info;
  }

  async function ask(a: Attempt, opts: AskOptions<unknown>): Promise<unknown> {
    const { job } = a;
    const info = a.info!;
    const hasDefault = opts.default !== undefined;
    // the prompt is the flow's own output: stored cleaned, as its results and logs are
    const key = storableText(String(opts.key));
    if (!info.interactive) {
      if (hasDefault) return opts.default;
      throw new FlowError("input_required", `input required (${opts.key}) but the batch is not interactive`, { retryable: false });
    }
    const { rows } = await pool.query<{ status: string; answer: unknown; default_value: unknown; answered_by: string | null; answered_at: Date | null }>(
      `SELECT status, answer, default_value, answered_by, answered_at FROM prompts WHERE job_id = $1 AND key = $2`,
      [job.id, key],
    );
    const p = rows[0];
    if (p?.status === "answered") {
      (a.answers ??= new Map()).set(key, { answeredBy: p.answered_by, answeredAt: p.answered_at });
      return p.answer;
    }
    if (p?.status === "expired") {
      if (p.default_value !== null && p.default_value !== undefined) return p.default_value;
      throw new FlowError("input_timeout", `no answer to ${JSON.stringify(opts.key)} before the prompt expired`, { retryable: false });
    }
    if (p?.status === "cancelled") throw new FlowError("input_cancelled", `prompt ${JSON.stringify(opts.key)} was cancelled`, { retryable: false });
    if (!p) {
      await pool.query(
        `INSERT INTO prompts (id, job_id, batch_id, key, question, input, default_value, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $8::float8 / 1000) END)
         ON CONFLICT (job_id, key) DO NOTHING`,
        [
          newId("prm"),
          job.id,
          job.batch_id,
          key,
          storableText(redactSecrets(String(opts.question))),
          storableJson(JSON.stringify(opts.input ?? { type: "text" })),
          hasDefault ? storableJson(JSON.stringify(opts.default)) : null,
          opts.timeoutMs ?? null,
        ],
      );
      notifyPrompts(job.batch_id);
    }
    throw new ParkSignal(key);
  }

  async function runJob(a: Attempt): Promise<void> {
    let result: Outcome;
    try {
      // cached: no await (and no promise) on the common path
      const info = (a.info = batchCache.get(a.job.batch_id) ?? (await loadBatchInfo(a.job.batch_id)));
      const flow: FlowDefinition | undefined = info ? getFlow(info.flow) : undefined;
      if (!info || !flow) {
        result = a.failure({ code: "unknown_flow", message: `flow ${JSON.stringify(info?.flow)} is not registered in this worker`, retryable: false });
      } else {
        if (info.timeoutMs) {
          const ms = info.timeoutMs;
          a.timer = setTimeout(() => a.abort(new AbortReason("timeout", `timed out after ${ms} ms`)), ms);
        }
        const value = await a.run(flow);
        let json: string | undefined;
        try {
          // undefined for a function or a symbol: stored as null
          json = JSON.stringify(value === undefined ? null : value) as string | undefined;
        } catch (err) {
          throw new FlowError("invalid_result", `the flow returned a value JSON cannot hold: ${(err as Error).message}`, { retryable: false });
        }
        result = a.outcome({ status: "succeeded", result: json === undefined ? null : storableResult(json), error: null });
      }
    } catch (err) {
      const reason = a.reason;
      if (reason?.kind === "lost") return; // cancelled/stopped/expired: nothing to write
      if (reason?.kind === "shutdown") {
        result = a.outcome({ status: "pending", release: true, error: null });
      } else if (reason?.kind === "timeout") {
        result = a.failure({ code: "timeout", message: reason.message, retryable: true });
      } else if (err instanceof ParkSignal) {
        result = a.outcome({ status: "waiting_input", error: null });
      } else if (err instanceof FlowError) {
        result = a.failure(err);
      } else {
        const e = err as Error;
        result = a.failure({ code: "flow_error", message: (e?.message || String(err)).slice(0, 4000), retryable: true });
      }
    } finally {
      if (a.timer) clearTimeout(a.timer);
    }
    if (result.status === "succeeded") stats.processed++;
    else if (result.status === "failed") {
      stats.processed++;
      stats.failed++;
    }
    // not awaited: the slot frees now and the next claim overlaps this write (the batch's own
    // `running` counter still holds the slot until the write commits, so batch concurrency stays exact)
    outcomeBatch.set(result.id, a.job.batch_id);
    complete(result);
  }

  async function runAttempt(a: Attempt): Promise<void> {
    try {
      await runJob(a);
    } catch (err) {
      log(`job ${a.job.id} crashed the runner: ${redactSecrets((err as Error).message)}`);
    } finally {
      running.delete(a.job.id);
      // the slot goes to the batch's next reservation here, unless the database already freed it (the
      // job was cancelled or lost) or the worker is stopping
      if (!stopping && a.reason?.kind !== "lost") promote(a.job.batch_id);
      wakeUp();
    }
  }

  function run(job: ClaimedJob) {
    const a = new Attempt(job, ask);
    running.set(job.id, a);
    a.done = runAttempt(a);
  }

  /**
   * A claimed job: run in its slot, or queued as a reservation. Once the worker is stopping, a claim
   * still on its way back (the loop's, or one made by an outcome write that was in flight) is given
   * back unstarted instead.
   */
  function start(job: ClaimedJob) {
    if (stopping) return release(job);
    if (!job.reserved) return run(job);
    let queue = reservations.get(job.batch_id);
    if (!queue) reservations.set(job.batch_id, (queue = []));
    queue.push(job);
  }

  // ---- the claim loop
  const loop = (async () => {
    let idle = 5;
    while (!stopping) {
      const free = freeSlots();
      // claim in rounds, not one slot at a time: wait until a useful share of the slots is free.
      // While outcomes are being written, that write claims for us (the same statement, ./cycle):
      // claiming here too would only find the batch locked and reserve the slots.
      if (
        free <= 0 ||
        buffer.length > 0 ||
        flushing > 0 ||
        (free < Math.ceil(concurrency / 8) && running.size > 0 && idle === 5)
      ) {
        await waitForWake(pollMs);
        continue;
      }
      let claimed: ClaimedJob[] = [];
      reserved += free;
      try {
        claimed = await claimJobs(id, free, leaseMs);
      } catch (err) {
        log(`claim failed: ${(err as Error).message}`);
      } finally {
        reserved -= free;
      }
      for (const j of claimed) start(j);
      if (stopping) break;
      if (claimed.length === 0) {
        // nothing runnable (or candidates locked by another claimer): back off up to pollMs
        await waitForWake(idle);
        idle = Math.min(idle * 2, pollMs);
      } else {
        idle = 5;
        if (claimed.length >= free) await waitForWake(pollMs);
      }
    }
  })();

  // ---- heartbeat: renew leases; jobs no longer ours (cancelled, stopped, expired) are aborted
  const heartbeat = () =>
    serial(async () => {
      const ids = [...new Set([...running.keys(), ...unflushed])];
      for (const queue of reservations.values()) for (const j of queue) ids.push(j.id);
      try {
        // one statement: renew the leases of the jobs still ours, renew this worker's own lease (the
        // sweep looks at workers past it), and drop from in_flight the ids found to be no longer ours
        // (cancelled, stopped, expired). A claim committing meanwhile only appends: it is not lost.
        const { rows } = await pool.query<{ id: number }>({
          name: "batchboard_heartbeat",
          text: `WITH held AS (
                   UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $3::float8 / 1000)
                   WHERE id = ANY($1::bigint[]) AND lease_owner = $2 AND status = 'running' RETURNING id),
                 me AS (
                   UPDATE workers SET heartbeat_at = now(), lease_until = now() + make_interval(secs => $3::float8 / 1000),
                     running = $4, processed = $5, failed = $6,
                     in_flight = ARRAY(SELECT unnest(in_flight) EXCEPT (SELECT unnest($1::bigint[]) EXCEPT SELECT id FROM held))
                   WHERE id = $2)
                 SELECT id FROM held`,
          values: [ids, id, leaseMs, running.size, stats.processed, stats.failed],
        });
        const held = new Set(rows.map((r) => Number(r.id)));
        for (const jid of ids) {
          const r = running.get(jid);
          if (r && !held.has(jid)) r.abort(new AbortReason("lost", "the job was cancelled, stopped, or its lease was lost"));
        }
        // reservations taken back (paused, cancelled, stopped batch) are forgotten
        for (const [b, queue] of reservations) {
          const kept = queue.filter((j) => held.has(j.id));
          if (kept.length === queue.length) continue;
          if (kept.length) reservations.set(b, kept);
          else reservations.delete(b);
        }
        stats.running = running.size;
      } catch (err) {
        log(`heartbeat failed: ${(err as Error).message}`);
      }
    });
  const heartbeatTimer = setInterval(() => void heartbeat(), Math.max(100, Math.floor(leaseMs / 3)));

  // ---- NOTIFY: new work wakes the claim loop; a cancel or stop triggers a heartbeat at once
  const unsubscribe = subscribeEvents((e) => {
    if (e.type !== "batch") return;
    if (e.status === "cancelled" || e.status === "failed" || e.status === "completed" || e.status === "paused") {
      // the change took back this batch's reservations (and its running jobs, unless paused): the
      // heartbeat finds which ones, and forgets them
      const mine = reservations.has(e.batchId) || [...running.values()].some((r) => r.job.batch_id === e.batchId);
      if (mine) void heartbeat();
    } else {
      wakeUp();
    }
  });

  // ---- maintenance
  let lastRetention = 0;
  let maintaining = false;
  const maintain = async () => {
    if (maintaining || stopping) return;
    maintaining = true;
    try {
      const expired = await expireLeases(1000, id);
      const prompts = await expirePrompts();
      if (expired || prompts) wakeUp();
      await deliverWebhooks();
      await sweepOpenAIBatches();
      if (Date.now() - lastRetention > RETENTION_EVERY_MS) {
        lastRetention = Date.now();
        const n = await sweepRetention();
        if (n) log(`retention: deleted ${n} finished batches`);
        const orphans = await sweepOrphanInlineDatasets();
        if (orphans) log(`removed ${orphans} inline datasets whose batch was never created`);
        await pruneWorkers();
      }
    } catch (err) {
      log(`maintenance failed: ${(err as Error).message}`);
    } finally {
      maintaining = false;
    }
  };
  const maintenanceTimer = setInterval(() => void maintain(), maintenanceMs);
  void maintain();

  let stopped: Promise<void> | null = null;
  const stop = (graceMs = 10_000): Promise<void> =>
    (stopped ??= (async () => {
      stopping = true;
      clearInterval(maintenanceTimer);
      wakeUp();
      await loop;
      // an outcome write in flight may be claiming: once it lands, what it claimed is given back (start)
      await writeChain;
      // reservations have not started: they go back at once
      let handedBack = 0;
      for (const queue of reservations.values()) handedBack += queue.length;
      releaseReservations(true);
      const deadline = Date.now() + graceMs;
      while (running.size > 0 && Date.now() < deadline) {
        await Promise.race([Promise.all([...running.values()].map((r) => r.done)), new Promise((r) => setTimeout(r, 50))]);
      }
      if (running.size > 0) {
        log(`releasing ${running.size} unfinished jobs`);
        handedBack += running.size;
        for (const r of running.values()) r.abort(new AbortReason("shutdown", "worker shutting down"));
        await Promise.all([...running.values()].map((r) => r.done));
      }
      while (buffer.length) {
        await flush();
        if (flushFailures > 5) break;
      }
      clearInterval(heartbeatTimer);
      unsubscribe();
      await writeChain;
      // in_flight is how the lease sweep finds this worker's jobs: any still running under it (a
      // hand-back that could not be written) stays there, to run again once its lease lapses
      await pool
        .query(
          `UPDATE workers SET stopped_at = now(), heartbeat_at = now(), running = 0, processed = $2, failed = $3,
             in_flight = ARRAY(SELECT f.id FROM unnest(in_flight) AS f(id) JOIN jobs j ON j.id = f.id
                               WHERE j.status = 'running' AND j.lease_owner = $1)
           WHERE id = $1`,
          [id, stats.processed, stats.failed],
        )
        .catch(() => {});
      log(
        buffer.length
          ? `stopped: ${buffer.length} outcomes and hand-backs could not be written (database unreachable); their leases will lapse and the jobs run again`
          : `stopped: ${handedBack} jobs handed back unstarted or unfinished, none counted as an attempt`,
      );
    })());

  log(`started (${options.mode}, concurrency ${concurrency}, lease ${leaseMs} ms)`);
  return {
    id,
    stop,
    get stats() {
      return { ...stats, running: running.size };
    },
  };
}

/** Processes for about `ms` (POST /api/worker/run, cron deployments), then stops gracefully. */
export async function runWorkerFor(ms: number): Promise<{ processed: number }> {
  const handle = await startWorker({ mode: "route", log: () => {} });
  await new Promise((r) => setTimeout(r, ms));
  await handle.stop(Math.min(ms, 10_000));
  return { processed: handle.stats.processed };
}
