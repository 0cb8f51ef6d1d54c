// The contract between flows and the engine: a flow is `run(record, ctx)` (and optionally
// `runChunk(records, ctx)`), typed by its zod parameter schema. docs/flows.md says how to write one.
import type pg from "pg";
import type { z } from "zod";
import type { ProviderBatchStatus, ProviderState, SubmissionTarget } from "./provider-batch/types";

export interface FlowRecord {
  /** the record id (unique in its batch) */
  id: string;
  /** the record's data as stored in its dataset (any JSON value) */
  data: unknown;
  /** 0-based position in the source dataset */
  position: number;
}

/** What a prompt asks for. The Inbox renders it; answers are validated against it. */
export type PromptInput =
  | { type: "choice"; options: { value: string; label?: string }[]; allowFreeText?: boolean }
  | { type: "text"; multiline?: boolean; maxLength?: number }
  | { type: "number"; min?: number; max?: number }
  | { type: "boolean" }
  | { type: "json"; schema?: Record<string, unknown> };

export interface AskOptions<T = unknown> {
  /** stable within one job: the answer is stored under it and returned on re-run */
  key: string;
  question: string;
  input?: PromptInput;
  /** used in non-interactive batches, and when the prompt times out */
  default?: T;
  /** how long the prompt stays open; past it the default is used, or the job fails */
  timeoutMs?: number;
}

export interface FlowContext<P = unknown> {
  params: P;
  /** aborted on cancel, on the per-item timeout, and when the worker shuts down */
  signal: AbortSignal;
  batchId: string;
  /** 1 on the first attempt */
  attempt: number;
  interactive: boolean;
  log(message: string, level?: "info" | "warn" | "error"): void;
  /** adds to this job's (and its batch's) spent cost */
  reportCost(amount: number): void;
  /**
   * The tokens a call used, from the provider's `usage`: a batch with a rate limit corrects the
   * estimate it charged before the call (FlowDefinition.estimateTokens) by it. Calls add up.
   */
  reportUsage(usage: TokenUsage): void;
  /**
   * Asks a human. In an interactive batch the first call parks the job (`waiting_input`) and the
   * flow is re-run from the start once answered, when this returns the stored answer: code before
   * an ask must be safe to run twice. Never catch and swallow what ask() throws.
   */
  ask<T = unknown>(options: AskOptions<T>): Promise<T>;
  /** who answered the prompt `key` and when, once ask() has returned a human's answer; else null */
  answerInfo(key: string): { answeredBy: string | null; answeredAt: Date | null } | null;
}

/**
 * What one call of runChunk sees: the FlowContext of its records together. `reportCost(amount)`
 * without an index is the call's cost, split evenly over its records; with `index` it is that
 * record's. `log` without an index goes to every record's log. There is no ask(): a chunk cannot park.
 */
export interface ChunkContext<P = unknown> extends Omit<FlowContext<P>, "ask" | "answerInfo" | "log" | "reportCost" | "attempt"> {
  /** the highest attempt number among the chunk's records (1 when every record is on its first) */
  attempt: number;
  log(message: string, level?: "info" | "warn" | "error", index?: number): void;
  reportCost(amount: number, index?: number): void;
  /** per record of this call, an id unique among the batch's jobs (a provider batch request's custom_id) */
  readonly requestIds: string[];
  /**
   * Mode provider_batch: per record of this call, what a provider holds for its attempt: the outcome
   * stored once its provider batch ended, "waiting" while one still holds it (a re-run after a lost
   * lease must not send it again), or undefined (send it).
   */
  providerStates(): Promise<(ProviderState | undefined)[]>;
  /**
   * Mode provider_batch: records, before the provider is asked, that a provider batch holding the
   * records at `indexes` is being submitted to `target`; returns our id of the submission (sent as
   * the provider batch's metadata). The submission is held for this call while it runs (renewed
   * every third of BATCHBOARD_PROVIDER_SUBMIT_HOLD_MS) until recordProviderBatch or failProviderBatch:
   * should the submitter die first, it is recovered once the hold lapsed: found at the provider and
   * adopted, or sent again.
   */
  reserveProviderBatch(target: SubmissionTarget, indexes: number[]): Promise<string>;
  /**
   * Mode provider_batch: called right before the request that makes the provider create the batch
   * (OpenAI's POST /batches, after the file upload; Anthropic's one POST). True: the submission is
   * still held and its records still this call's (the hold renewed): send it, and let that request
   * run to its answer whatever happens to the call meanwhile. False: the records were lost (a lapsed
   * lease, a cancel) or the submission recovered: send nothing, end it with failProviderBatch(…, false).
   */
  confirmProviderBatch(submission: string): Promise<boolean>;
  /**
   * Mode provider_batch: the provider took the submission: its id and state. True also when a
   * recovery already adopted this very provider batch. False when it is not recorded: the submission
   * was recovered otherwise meanwhile (its records go again), or its records are no longer this
   * call's (another worker took them over): the caller cancels what the provider created, then ends
   * the submission with failProviderBatch(…, false).
   */
  recordProviderBatch(submission: string, status: ProviderBatchStatus): Promise<boolean>;
  /**
   * Mode provider_batch: the submission failed with `error`. `created` false: the provider answered,
   * it created nothing, or nothing was sent (the submission ends; records another worker parked on
   * it are sent again); "maybe": no answer (a timeout, a dropped
   * connection), so the submission is recovered at once: adopted if the provider has it, else its
   * records fail with this error (retryable).
   */
  failProviderBatch(submission: string, error: string, created: false | "maybe"): Promise<void>;
}

/**
 * One record's outcome in a chunk: its result, or its own failure (retried per the batch's rules when
 * retryable), or that a provider batch now holds it (mode provider_batch, after recordProviderBatch):
 * the job parks, holding no slot, and runs again once the provider's outcome for it is in.
 */
export type ChunkOutcome = { result: unknown } | { error: FlowError } | { waitingProvider: true };

/** How many records one call of a chunked flow takes. */
export interface ChunkSize {
  /** the chunk_size of a batch that names none */
  defaultSize: number;
  /** the largest chunk_size a batch may ask for */
  maxSize: number;
  /** the smallest chunk_size a batch may ask for (default 1: any) */
  minSize?: number;
}

/**
 * The chunk sizes a flow's runChunk takes, in one declaration read by batch validation (chunk_size),
 * GET /api/flows (the New batch form and the docs): the same sizes always; or only in batches that set
 * `parameter` (any value but null); or per value of `parameter` (a mode of the flow) in `modes`, where
 * a value not listed runs one record per call and a chunk_size above 1 is refused.
 */
export type ChunkSizes = (ChunkSize & { parameter?: string }) | { parameter: string; modes: Record<string, ChunkSize> };

export interface TokenUsage {
  input_tokens?: number;
  output_tokens?: number;
}

/** The dataset a batch is being created on, as a flow's checkSource sees it. */
export interface BatchSource {
  /** null for inline records (not yet stored) */
  datasetId: string | null;
  name: string;
  /** csv | jsonl | json | files | openai | inline, or null */
  format: string | null;
  /** the creating transaction's connection */
  db: Pick<pg.ClientBase, "query">;
}

export interface FlowDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  parameters: S;
  /** dataset name used when a batch names no source */
  defaultDataset?: string;
  /** Declares that run() asks a human (ctx.ask): the New batch form turns Interactive on for it. */
  asks?: FlowAsks;
  /**
   * Refuses, with an AppError naming the parameter, a source these parameters cannot run on (a
   * batch that would fail every record is better refused at creation).
   */
  checkSource?(params: z.output<S>, source: BatchSource): Promise<void>;
  /**
   * Batches of this flow reuse earlier results unless they say `cache: false` (a flow whose result
   * depends only on its parameters and the record: an embedding, a deterministic classifier).
   */
  cache?: boolean;
  run(record: FlowRecord, ctx: FlowContext<z.output<S>>): Promise<unknown>;
  /**
   * Runs many records in one call (a flow whose upstream takes arrays). With it, a batch's
   * `chunk_size` (default `chunk.defaultSize`, at most `chunk.maxSize`) groups up to that many records
   * per call. Returns one outcome per record, in the order given: a record the upstream refused alone
   * fails alone. A throw fails the whole call: each record of it is retried (or fails) as a thrown
   * error from run() would.
   */
  runChunk?(records: FlowRecord[], ctx: ChunkContext<z.output<S>>): Promise<ChunkOutcome[]>;
  /** the chunk sizes runChunk takes: required with it */
  chunk?: ChunkSizes;
  /**
   * Tokens one run will use, charged to a rate-limited batch's tokens per minute before the call and
   * corrected by reportUsage after it (default: the record's JSON characters / 4).
   */
  estimateTokens?(params: z.output<S>, record: FlowRecord): number;
}

export interface FlowAsks {
  /**
   * In a batch that is not interactive the answers come from this parameter; with it unset every
   * record fails with `input_required`, which the API and the form say before the batch is created.
   * Leave it out when each ask() carries its own default.
   */
  defaultParameter?: string;
}

export function defineFlow<S extends z.ZodType>(def: FlowDefinition<S>): FlowDefinition<S> {
  return def;
}

/**
 * Throw from a flow to fail an attempt with a code. `retryable: false` fails the job for good at once;
 * `retryAfterMs` overrides the backoff for the next attempt (e.g. from a Retry-After header);
 * `result` is kept as the job's result if this failure is its last (e.g. the upstream's error response).
 * `rateLimited` says the upstream refused the call for its rate (default: code `http_429`): a batch
 * with a rate limit then pauses (with retryAfterMs) or slows down its limit's key.
 */
export class FlowError extends Error {
  override name = "FlowError";
  readonly code: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly result?: unknown;
  readonly rateLimited: boolean;
  constructor(
    code: string,
    message: string,
    options: { retryable?: boolean; retryAfterMs?: number; result?: unknown; cause?: unknown; rateLimited?: boolean } = {},
  ) {
    super(message, { cause: options.cause });
    this.rateLimited = options.rateLimited ?? code === "http_429";
    this.code = code;
    this.retryable = options.retryable ?? true;
    this.retryAfterMs = options.retryAfterMs;
    this.result = options.result;
  }
}
