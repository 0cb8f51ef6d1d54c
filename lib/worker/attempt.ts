// One attempt of one claimed job: the context its flow sees (`ctx`: params, log, reportCost, ask,
// signal), its abort (timeout, lost lease, shutdown), and the outcome it ends with (success, retry
// with backoff, failure, park on a prompt, hand-back). It knows nothing of slots, reservations or the
// outbox: ./slots starts attempts and hands their outcomes to ./outbox.
import { storableJson, storableText } from "@/lib/db/storable";
import type { ClaimedJob } from "@/lib/engine/claim";
import type { Outcome } from "@/lib/engine/complete";
import { findAskedPrompt, openPrompt } from "@/lib/engine/prompts";
import type { LogLine } from "@/lib/engine/types";
import { afterLimitedCall, beforeLimitedCall, RateLimitHandBack, type Permit } from "@/lib/engine/rate-limits";
import type { BatchRunSettings } from "@/lib/engine/workers";
import { getFlow } from "@/lib/flows/registry";
import { redactSecrets, redactSecretsInJson } from "@/lib/flows/secrets";
import { FlowError, type AskOptions, type FlowContext, type FlowDefinition, type FlowRecord, type TokenUsage } from "@/lib/flows/types";
import type { BatchSettingsCache } from "./batch-settings";

/** Thrown by ctx.ask() in an interactive batch to park the job until the prompt is answered. */
export class ParkSignal extends Error {
  override name = "ParkSignal";
}

export type AbortKind = "timeout" | "lost" | "shutdown";
export class AbortReason extends Error {
  constructor(
    readonly kind: AbortKind,
    message: string,
  ) {
    super(message);
  }
}

type AnswerInfo = { answeredBy: string | null; answeredAt: Date | null };

const MAX_LOG_LINES = 100;
const MAX_LOG_CHARS = 2000;
const MAX_BACKOFF_MS = 3_600_000;

// Everything a job stores passes through here or storableResult: flows' secrets are redacted first
// (before any cut, so half a secret is never kept), then made storable.
const storableLine = (message: unknown) => storableText(redactSecrets(String(message)).slice(0, MAX_LOG_CHARS));
const storableResult = (json: string) => storableJson(redactSecretsInJson(json));

/** The delay before retry `attempt` (1-based) of a batch with backoff `base` ms. */
export function backoffMs(base: number, attempt: number): number {
  const d = Math.min(base * 2 ** (attempt - 1), MAX_BACKOFF_MS);
  // "equal jitter": half fixed, half random, so retries of many jobs spread out
  return d / 2 + Math.random() * (d / 2);
}

/**
 * One attempt of one claimed job, and the context its flow sees. One object with a few bound
 * methods, and an AbortController only when a flow reads `signal`: at thousands of jobs a second the
 * per-job garbage is what sizes the worker's heap.
 */
export class Attempt implements FlowContext {
  /** when the flow's run began: the claim, or the end of a wait for the batch's rate limit */
  started = Date.now();
  info: BatchRunSettings | null = null;
  cost = 0;
  logs: LogLine[] = [];
  answers: Map<string, AnswerInfo> | null = null;
  /** tokens the flow reported (ctx.reportUsage); null when it reported none */
  tokensUsed: number | null = null;
  /** waiting on its batch's rate limit: a stopping worker hands it back at once */
  waitingOnLimit = false;
  /** why the attempt was aborted (timeout, lost, shutdown); set once */
  reason: AbortReason | null = null;
  timer: NodeJS.Timeout | null = null;
  /** settles when the attempt is over and its slot is free (set by whoever starts it) */
  done!: Promise<void>;
  /** called once when the attempt is aborted (a chunk aborts its call once all its attempts are) */
  onAbort: (() => void) | null = null;
  private controller: AbortController | null = null;
  private rejectRun: ((reason: unknown) => void) | null = null;

  constructor(readonly job: ClaimedJob) {
    // bound: a flow may take them off ctx (`const { log } = ctx`)
    this.log = this.log.bind(this);
    this.reportCost = this.reportCost.bind(this);
    this.reportUsage = this.reportUsage.bind(this);
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
    this.onAbort?.();
  }

  /**
   * Runs the flow until it settles or the attempt is aborted, whichever is first: a flow that
   * ignores its signal cannot hold a slot past its timeout or a cancel.
   */
  run(flow: FlowDefinition): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.reason) return reject(this.reason);
      this.rejectRun = reject;
      flow.run(this.record, this).then(resolve, reject);
    });
  }
  get record(): FlowRecord {
    return { id: this.job.record_id, data: this.job.data, position: this.job.position };
  }

  log(message: string, level: LogLine["level"] = "info"): void {
    if (this.logs.length < MAX_LOG_LINES) this.logs.push({ at: new Date().toISOString(), level, message: storableLine(message) });
  }
  reportCost(amount: number): void {
    if (Number.isFinite(amount) && amount > 0) this.cost += amount;
  }
  reportUsage(usage: TokenUsage): void {
    const n = (Number(usage?.input_tokens) || 0) + (Number(usage?.output_tokens) || 0);
    if (n >= 0) this.tokensUsed = (this.tokensUsed ?? 0) + n;
  }
  ask<T = unknown>(opts: AskOptions<T>): Promise<T> {
    return ask(this, opts as AskOptions<unknown>) as Promise<T>;
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

/** The outcome of a claimed job given back unstarted: its attempt does not count. */
export function handBack(j: ClaimedJob, asReservation: boolean): Outcome {
  return { id: j.id, attempts: j.attempts, interruptions: j.interruptions, status: "pending", release: true, reserved: asReservation, cost: 0, logs: null, delayMs: 0, durationMs: 0 };
}

/**
 * Runs the attempt's flow to its outcome: null when the job is no longer this worker's (cancelled,
 * stopped, its lease lost), so there is nothing to write.
 */
export async function runToOutcome(a: Attempt, settings: BatchSettingsCache): Promise<Outcome | null> {
  let permit: Permit | null = null;
  let failure: unknown = null;
  try {
    // cached: no await (and no promise) on the common path
    const info = (a.info = settings.get(a.job.batch_id) ?? (await settings.load(a.job.batch_id)));
    const flow: FlowDefinition | undefined = info ? getFlow(info.flow) : undefined;
    if (!info || !flow) {
      return a.failure({ code: "unknown_flow", message: `flow ${JSON.stringify(info?.flow)} is not registered in this worker`, retryable: false });
    }
    // a rate-limited job waits for its call here, in its slot (the batch's concurrency caps how many
    // wait), before its timeout starts; the wait is not an attempt
    if (info.rateLimitKey) {
      a.waitingOnLimit = true;
      permit = await beforeLimitedCall(info.rateLimitKey, flow, info.parameters, a.record, a.job.batch_id, a.signal);
      a.waitingOnLimit = false;
      a.started = Date.now(); // the duration is the flow's, not the wait's
    }
    if (info.timeoutMs) {
      const ms = info.timeoutMs;
      a.timer = setTimeout(() => a.abort(new AbortReason("timeout", `timed out after ${ms} ms`)), ms);
    }
    return succeeded(a, await a.run(flow));
  } catch (err) {
    failure = err;
    return failedWith(a, err);
  } finally {
    if (a.timer) clearTimeout(a.timer);
    if (permit) afterLimitedCall(permit, a.tokensUsed, failure);
  }
}

/** The outcome of an attempt whose flow returned `value`. */
export function succeeded(a: Attempt, value: unknown): Outcome {
  let json: string | undefined;
  try {
    // undefined for a function or a symbol: stored as null
    json = JSON.stringify(value === undefined ? null : value) as string | undefined;
  } catch (err) {
    return a.failure({ code: "invalid_result", message: `the flow returned a value JSON cannot hold: ${(err as Error).message}`, retryable: false });
  }
  return a.outcome({ status: "succeeded", result: json === undefined ? null : storableResult(json), error: null });
}

/** The outcome of an attempt whose flow threw `err` (or was aborted): null when the job is no longer this worker's. */
export function failedWith(a: Attempt, err: unknown): Outcome | null {
  const reason = a.reason;
  if (reason?.kind === "lost") return null; // cancelled/stopped/expired: nothing to write
  if (reason?.kind === "shutdown" || err instanceof RateLimitHandBack) return a.outcome({ status: "pending", release: true, error: null });
  if (reason?.kind === "timeout") return a.failure({ code: "timeout", message: reason.message, retryable: true });
  if (err instanceof ParkSignal) return a.outcome({ status: "waiting_input", error: null });
  if (err instanceof FlowError) return a.failure(err);
  const e = err as Error;
  return a.failure({ code: "flow_error", message: (e?.message || String(err)).slice(0, 4000), retryable: true });
}

/** ctx.ask(): the answer, the default, or a ParkSignal after opening the prompt (interactive batches). */
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
  const p = await findAskedPrompt(job.id, key);
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
    await openPrompt({
      jobId: job.id,
      batchId: job.batch_id,
      key,
      question: storableText(redactSecrets(String(opts.question))),
      input: storableJson(JSON.stringify(opts.input ?? { type: "text" })),
      defaultValue: hasDefault ? storableJson(JSON.stringify(opts.default)) : null,
      timeoutMs: opts.timeoutMs ?? null,
    });
  }
  throw new ParkSignal(key);
}
