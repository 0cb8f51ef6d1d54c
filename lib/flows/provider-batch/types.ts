// What a provider's asynchronous batch tier looks like to Batchboard, whichever provider it is: a
// batch of requests submitted at once, polled until it ends, then read back as one outcome per
// request, matched by the custom_id each request was sent with (never by position).
import type { KeptResponse } from "../openai";

export type BatchProvider = "openai" | "anthropic";

/** Where a provider batch goes and with which key. */
export interface ProviderConnection {
  /** API root, e.g. https://api.openai.com/v1 */
  baseUrl: string;
  /** environment variable holding the key (listed in BATCHBOARD_FLOW_SECRETS); unset: no key */
  apiKeyEnv: string | undefined;
  signal: AbortSignal;
  /** per HTTP call */
  timeoutMs: number;
}

/** One request of a provider batch: the body a live call would send, and the id its answer comes back under. */
export interface ProviderRequest {
  customId: string;
  body: Record<string, unknown>;
}

export interface ProviderBatchStatus {
  /** the provider's id of the batch */
  id: string;
  /** the provider's own status word (validating, in_progress, ended, ...) */
  status: string;
  /** no request will change any more: results can be read (a cancelled or expired batch included) */
  ended: boolean;
  counts: { total: number; succeeded: number; failed: number };
  /** when the provider gives up on the batch's unfinished requests */
  expiresAt: Date | null;
  /** why the whole batch failed before running any request (OpenAI's validation errors); else undefined */
  failure?: string;
  /** the provider's answer as it came */
  raw: unknown;
}

export type ProviderOutcome =
  | { customId: string; ok: true; response: KeptResponse }
  | {
      customId: string;
      ok: false;
      /** http_<status>, the provider's error code, provider_batch_expired or provider_batch_cancelled */
      code: string;
      message: string;
      /** may succeed if sent again (a rate limit, a server error, an expiry, a cancel) */
      retryable: boolean;
      response?: KeptResponse;
    };

export interface ProviderResults {
  /** by custom_id; a request the provider returned nothing for is absent */
  outcomes: Map<string, ProviderOutcome>;
  /** lines that could not be read, with their 1-based number in their file */
  malformed: { file: string; line: number; reason: string }[];
}

/** Where a group of records goes: the provider, its API root, the key's variable and the endpoint of each request. */
export interface SubmissionTarget {
  provider: BatchProvider;
  baseUrl: string;
  apiKeyEnv: string | undefined;
  endpoint: string;
}

/**
 * The metadata a provider batch is created with: the Batchboard batch and our own id of the submission
 * (the provider_batches row, recorded before the provider is asked), by which a submission whose
 * answer was lost is found again at the provider.
 */
export interface SubmissionMetadata {
  batchboard_batch: string;
  batchboard_submission: string;
  [key: string]: string;
}

/** What a job's attempt has from a provider: its stored outcome, or that a provider batch still holds it. */
export type ProviderState = { outcome: ProviderOutcome } | "waiting";

export interface SubmitOptions {
  endpoint: string;
  metadata?: Record<string, string>;
  /**
   * Awaited right before the request that makes the provider create the batch (after OpenAI's file
   * upload): throwing sends nothing more
   */
  beforeCreate?: () => Promise<void>;
  /** the signal of that request (default conn.signal): once it is sent, its answer says what the provider holds */
  createSignal?: AbortSignal;
}

/** The operations every provider's batch tier offers. */
export interface BatchClient {
  /** the most requests one provider batch may hold */
  readonly maxRequests: number;
  submit(conn: ProviderConnection, requests: ProviderRequest[], options: SubmitOptions): Promise<ProviderBatchStatus>;
  get(conn: ProviderConnection, id: string): Promise<ProviderBatchStatus>;
  /** the outcomes of an ended batch */
  results(conn: ProviderConnection, batch: ProviderBatchStatus): Promise<ProviderResults>;
  cancel(conn: ProviderConnection, id: string): Promise<ProviderBatchStatus>;
  /**
   * The provider batch created with this metadata, looked for among the provider's batches created
   * since `since` (newest first, a bounded number of pages), or null when there is none. Absent on a
   * provider whose batches carry no metadata (Anthropic).
   */
  findByMetadata?(conn: ProviderConnection, metadata: SubmissionMetadata, since: Date): Promise<ProviderBatchStatus | null>;
}

export const isRetryableStatus = (status: number): boolean => status === 429 || status >= 500;

/** Reads a JSONL text line by line: each line's value, or why it is not one. */
export function* jsonLines(text: string): Generator<{ line: number; value?: unknown; reason?: string }> {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    try {
      yield { line: i + 1, value: JSON.parse(line) };
    } catch {
      yield { line: i + 1, reason: `not JSON: ${line.slice(0, 120)}` };
    }
  }
}
