// One call of a chunked flow (FlowDefinition.runChunk) over several claimed jobs of one batch. Each
// job keeps its own Attempt (cost, logs, retries, outcome); the call shares one signal, one timeout
// and one rate-limit permit. The call is aborted once every one of its attempts is (cancel, shutdown,
// a lost lease), or at once on its timeout; a job lost alone (cancelled by itself) writes nothing and
// the others go on.
import type { ClaimedJob } from "@/lib/engine/claim";
import type { Outcome } from "@/lib/engine/complete";
import { afterLimitedCall, beforeLimitedChunk, RateLimitHandBack, type Permit } from "@/lib/engine/rate-limits";
import { getConfig } from "@/lib/config";
import {
  failProviderBatch,
  holdProviderBatch,
  providerStateOf,
  RecordsLost,
  recordProviderBatch,
  reserveProviderBatch,
  type SubmissionHolder,
} from "@/lib/engine/provider-batches";
import { customIdOf } from "@/lib/flows/provider-batch";
import type { ProviderBatchStatus, ProviderState, SubmissionTarget } from "@/lib/flows/provider-batch/types";
import { getFlow } from "@/lib/flows/registry";
import { FlowError, type ChunkContext, type ChunkOutcome, type FlowDefinition, type FlowRecord, type TokenUsage } from "@/lib/flows/types";
import { AbortReason, Attempt, failedWith, succeeded } from "./attempt";
import type { BatchSettingsCache } from "./batch-settings";

/**
 * Splits one claim's jobs into calls: a chunked batch's jobs as the claim put them in calls (at most
 * chunk_size each, some smaller: the batch's concurrency counts these calls, lib/db/sql/cycle.sql),
 * the others one by one.
 */
export function groupIntoChunks(jobs: readonly ClaimedJob[]): { single: ClaimedJob[]; chunks: ClaimedJob[][] } {
  const single: ClaimedJob[] = [];
  const calls = new Map<string, ClaimedJob[]>();
  for (const j of jobs) {
    const call = callOf(j);
    if (call === null) {
      single.push(j);
      continue;
    }
    const key = `${j.batch_id} ${call}`;
    const group = calls.get(key);
    if (group) group.push(j);
    else calls.set(key, [j]);
  }
  return { single, chunks: [...calls.values()] };
}

/** The call a claimed job runs in (a chunked batch's, as groupIntoChunks puts it in one), or null: its lease is the call's. */
export function callOf(j: ClaimedJob): number | null {
  return j.chunk_size <= 1 || j.reserved || j.call === null ? null : j.call;
}

export class Chunk implements ChunkContext {
  readonly attempts: Attempt[];
  reason: AbortReason | null = null;
  tokensUsed: number | null = null;
  private readonly controller = new AbortController();
  private rejectRun: ((reason: unknown) => void) | null = null;
  /**
   * provider batch submissions of this call not recorded yet: each renews its hold until it is.
   * `creating`: its POST to the provider is on its way (confirmProviderBatch passed), so it stays held
   * until its answer is recorded or failed, even once the call itself was given up.
   */
  private readonly holds = new Map<string, { timer: NodeJS.Timeout; creating: boolean }>();
  /** who holds each submission of this call (its records as claimed), until it is recorded or failed */
  private readonly holders = new Map<string, SubmissionHolder>();

  /** `owner`: the worker that claimed the jobs (a provider batch is submitted only while they are its own) */
  constructor(
    jobs: readonly ClaimedJob[],
    readonly owner: string,
  ) {
    this.attempts = jobs.map((j) => new Attempt(j));
    for (const a of this.attempts) a.onAbort = () => this.attemptAborted(a);
    this.log = this.log.bind(this);
    this.reportCost = this.reportCost.bind(this);
    this.reportUsage = this.reportUsage.bind(this);
  }

  get params(): unknown {
    return this.attempts[0]!.params;
  }
  get batchId(): string {
    return this.attempts[0]!.job.batch_id;
  }
  get attempt(): number {
    let n = 1;
    for (const a of this.attempts) n = Math.max(n, a.job.attempts);
    return n;
  }
  get interactive(): boolean {
    return this.attempts[0]!.interactive;
  }
  get signal(): AbortSignal {
    return this.controller.signal;
  }
  get records(): FlowRecord[] {
    return this.attempts.map((a) => a.record);
  }
  get requestIds(): string[] {
    return this.attempts.map((a) => customIdOf(a.job.id));
  }

  async providerStates(): Promise<(ProviderState | undefined)[]> {
    const states = await providerStateOf(this.attempts.map((a) => ({ id: a.job.id, attempts: a.job.attempts })));
    return this.attempts.map((a) => states.get(a.job.id));
  }

  /**
   * The submission is held while this call runs: renewed every third of the hold until it is recorded
   * or failed (or the call ends), so a slow submission is never recovered under its submitter; one
   * whose submitter died is, once the hold lapsed. Reserved only while the records are this worker's:
   * lost to another worker (a lapsed lease), the call's attempts are lost and nothing is sent.
   */
  async reserveProviderBatch(target: SubmissionTarget, indexes: number[]): Promise<string> {
    const claimed = indexes.map((i) => this.attempts[i]!.job);
    const holder: SubmissionHolder = { owner: this.owner, jobs: claimed.map((j) => ({ id: j.id, attempts: j.attempts, interruptions: j.interruptions })) };
    const holdMs = getConfig().BATCHBOARD_PROVIDER_SUBMIT_HOLD_MS;
    let submission: string;
    try {
      submission = await reserveProviderBatch(this.batchId, target, claimed.map((j) => ({ id: j.id, attempts: j.attempts })), holdMs, holder);
    } catch (err) {
      if (!(err instanceof RecordsLost)) throw err;
      // as the heartbeat would once it noticed: nothing is written for these attempts
      const lost = new AbortReason("lost", err.message);
      this.abortAll(lost);
      throw lost;
    }
    this.holders.set(submission, holder);
    const hold = { timer: undefined as unknown as NodeJS.Timeout, creating: false };
    hold.timer = setInterval(() => {
      // held whoever has the records while the provider's answer is on its way (a recovery must not
      // send them again meanwhile); before that, a submission whose records were lost is given up
      // (confirmProviderBatch then refuses it)
      holdProviderBatch(submission, holdMs, holder).then(
        ({ held, owned }) => (held && (owned || hold.creating)) || this.endHold(submission),
        () => undefined, // tried again at the next renewal
      );
    }, Math.max(10, Math.floor(holdMs / 3)));
    hold.timer.unref();
    this.holds.set(submission, hold);
    return submission;
  }
  async confirmProviderBatch(submission: string): Promise<boolean> {
    const holder = this.holders.get(submission);
    if (!holder || !this.holds.has(submission) || this.signal.aborted) return false;
    const { held } = await holdProviderBatch(submission, getConfig().BATCHBOARD_PROVIDER_SUBMIT_HOLD_MS, holder, true);
    // the call may have been given up meanwhile
    const hold = this.holds.get(submission);
    if (!held || !hold || this.signal.aborted) return false;
    hold.creating = true;
    return true;
  }
  async recordProviderBatch(submission: string, status: ProviderBatchStatus): Promise<boolean> {
    try {
      return await recordProviderBatch(submission, status, this.holders.get(submission));
    } finally {
      this.endHold(submission);
      this.holders.delete(submission);
    }
  }
  async failProviderBatch(submission: string, error: string, created: false | "maybe"): Promise<void> {
    this.endHold(submission);
    this.holders.delete(submission);
    await failProviderBatch(submission, error, created);
  }
  /**
   * Stops renewing the hold of `submission`; without one, of every submission of this call whose POST
   * to the provider is not on its way (the call ends: those go on until their answer is in).
   */
  endHold(submission?: string): void {
    for (const [id, hold] of this.holds) {
      if (submission === undefined ? hold.creating : id !== submission) continue;
      clearInterval(hold.timer);
      this.holds.delete(id);
    }
  }

  log(message: string, level: "info" | "warn" | "error" = "info", index?: number): void {
    if (index !== undefined) this.attempts[index]?.log(message, level);
    else for (const a of this.attempts) a.log(message, level);
  }
  reportCost(amount: number, index?: number): void {
    if (!(Number.isFinite(amount) && amount > 0)) return;
    if (index !== undefined) this.attempts[index]?.reportCost(amount);
    else for (const a of this.attempts) a.reportCost(amount / this.attempts.length);
  }
  reportUsage(usage: TokenUsage): void {
    const n = (Number(usage?.input_tokens) || 0) + (Number(usage?.output_tokens) || 0);
    if (n >= 0) this.tokensUsed = (this.tokensUsed ?? 0) + n;
  }

  /** Aborts every attempt (a timeout): the call's signal aborts with the first. */
  abortAll(reason: AbortReason): void {
    for (const a of this.attempts) a.abort(reason);
  }

  /** Runs the call until it settles or the whole chunk is aborted, whichever is first. */
  run(flow: FlowDefinition): Promise<ChunkOutcome[]> {
    return new Promise((resolve, reject) => {
      if (this.reason) return reject(this.reason);
      this.rejectRun = reject;
      flow.runChunk!(this.records, this).then(resolve, reject);
    });
  }

  private attemptAborted(a: Attempt): void {
    if (this.reason || !this.attempts.every((x) => x.reason)) return;
    this.reason = a.reason;
    this.controller.abort(a.reason);
    this.rejectRun?.(a.reason);
  }
}

/**
 * Runs the chunk's call to one outcome per attempt (null where the job is no longer this worker's).
 * A call that throws fails each of its records as that error would fail one (retried per record).
 */
export async function runChunkToOutcomes(c: Chunk, settings: BatchSettingsCache): Promise<(Outcome | null)[]> {
  const { attempts } = c;
  let permit: Permit | null = null;
  let failure: unknown = null;
  let timer: NodeJS.Timeout | null = null;
  try {
    const info = settings.get(c.batchId) ?? (await settings.load(c.batchId));
    for (const a of attempts) a.info = info;
    const flow: FlowDefinition | undefined = info ? getFlow(info.flow) : undefined;
    if (!info || !flow?.runChunk) {
      const message = `flow ${JSON.stringify(info?.flow)} is not registered in this worker${flow ? " with runChunk" : ""}`;
      return attempts.map((a) => a.failure({ code: "unknown_flow", message, retryable: false }));
    }
    if (info.rateLimitKey) {
      for (const a of attempts) a.waitingOnLimit = true;
      permit = await beforeLimitedChunk(info.rateLimitKey, flow, info.parameters, c.records, c.batchId, c.signal);
      const now = Date.now();
      for (const a of attempts) {
        a.waitingOnLimit = false;
        a.started = now;
      }
    }
    if (info.timeoutMs) {
      const ms = info.timeoutMs;
      timer = setTimeout(() => c.abortAll(new AbortReason("timeout", `timed out after ${ms} ms`)), ms);
    }
    const outcomes = await c.run(flow);
    if (!Array.isArray(outcomes) || outcomes.length !== attempts.length) {
      const got = Array.isArray(outcomes) ? `${outcomes.length} outcomes` : "no array";
      throw new FlowError("invalid_result", `runChunk returned ${got} for ${attempts.length} records`, { retryable: false });
    }
    return attempts.map((a, i) => {
      if (a.reason) return failedWith(a, a.reason);
      const o = outcomes[i] as Partial<{ result: unknown; error: unknown }> | null;
      if (o && typeof o === "object" && "error" in o) return failedWith(a, o.error);
      // a provider batch holds it (mode provider_batch): parked, no slot, until its outcome is in
      if (o && typeof o === "object" && "waitingProvider" in o) return a.outcome({ status: "waiting_provider", error: null });
      if (o && typeof o === "object" && "result" in o) return succeeded(a, o.result);
      return a.failure({ code: "invalid_result", message: `runChunk's outcome ${i} has neither result nor error`, retryable: false });
    });
  } catch (err) {
    failure = err;
    if (err instanceof RateLimitHandBack) return attempts.map((a) => (a.reason?.kind === "lost" ? null : a.outcome({ status: "pending", release: true, error: null })));
    return attempts.map((a) => failedWith(a, err));
  } finally {
    c.endHold();
    if (timer) clearTimeout(timer);
    if (permit) afterLimitedCall(permit, c.tokensUsed, failure);
  }
}
