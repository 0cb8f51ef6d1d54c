// Row -> engine type mapping for the snake_case tables (one place).
import type { PromptInput } from "@/lib/flows/types";
import type { Batch, BatchStatus, Job, JobError, JobStatus, Prompt, PromptStatus, StopDetail } from "./types";

export interface BatchRow {
  id: string;
  name: string | null;
  flow: string;
  parameters: unknown;
  dataset_id: string | null;
  parent_id: string | null;
  status: BatchStatus;
  stop_reason: string | null;
  stop_detail: StopDetail | null;
  shuffle: boolean;
  seed: string | null;
  max_records: number | null;
  concurrency: number;
  chunk_size: number;
  error_policy: "continue" | "stop";
  error_threshold_rate: number | null;
  error_threshold_min_finished: number | null;
  interactive: boolean;
  max_retries: number;
  max_interruptions: number;
  retry_backoff_ms: number;
  timeout_ms: number | null;
  max_cost: number | null;
  cost_reservation: "per_record" | "mean" | null;
  cost_reservation_per_record: number | null;
  priority: number;
  metadata: Record<string, unknown>;
  webhook_url: string | null;
  dry_run: boolean;
  ttl_seconds: number | null;
  save_raw: boolean;
  cache: boolean;
  cache_max_age_seconds: number | null;
  cache_answers: boolean;
  cached: number;
  cache_saved_cost: number;
  rate_limit: { requests_per_minute?: number; tokens_per_minute?: number; key?: string } | null;
  rate_limit_key: string | null;
  total: number;
  pending: number;
  running: number;
  reserved: number;
  waiting_input: number;
  waiting_provider: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  skipped: number;
  cost_spent: number;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  updated_at: Date;
  /** BATCH_RATE_SQL, read with BATCH_SELECT */
  items_per_second?: number | null;
}

/**
 * A finished batch whose own ttl_seconds have passed, as SQL over the batches row `b`: gone for every
 * read and action at once, whether or not the retention sweep has deleted it yet.
 */
export const batchExpiredSql = (b = "b") =>
  `(${b}.status IN ('completed', 'failed', 'cancelled') AND ${b}.ttl_seconds IS NOT NULL
    AND COALESCE(${b}.completed_at, ${b}.updated_at) + make_interval(secs => ${b}.ttl_seconds) <= now())`;

/**
 * A batch's rate in jobs per second, as SQL over the batches row `b`: over its whole run once finished,
 * over the last minute (its completions in batch_metrics) while it runs; null before a job the flow
 * ran has finished (a reused result, options.cache, took no time). The list sorts by the same figure.
 */
export const BATCH_RATE_SQL = `(CASE
  WHEN b.started_at IS NULL OR b.succeeded + b.failed - b.cached <= 0 THEN NULL
  WHEN b.completed_at IS NOT NULL THEN
    (b.succeeded + b.failed - b.cached)::float8 / greatest(extract(epoch FROM b.completed_at - b.started_at)::float8, 0.001)
  ELSE COALESCE((SELECT sum(m.succeeded + m.failed) FROM batch_metrics m WHERE m.batch_id = b.id AND m.bucket > now() - interval '60 seconds'), 0)::float8
    / least(60, greatest(extract(epoch FROM now() - b.started_at)::float8, 1))
END)`;

/** SELECT list for a batch plus its rate (items/s), for `FROM batches b`. */
export const BATCH_SELECT = `b.*, ${BATCH_RATE_SQL} AS items_per_second`;

/** A batches row as Batch; its rate only when read with BATCH_SELECT (else null). */
export function toBatch(r: BatchRow): Batch {
  const itemsPerSecond = r.items_per_second ?? null;
  return {
    id: r.id,
    name: r.name,
    flow: r.flow,
    parameters: r.parameters,
    datasetId: r.dataset_id,
    parentId: r.parent_id,
    status: r.status,
    stopReason: r.stop_reason,
    stopDetail: r.stop_detail ?? null,
    options: {
      shuffle: r.shuffle,
      seed: r.seed,
      maxRecords: r.max_records,
      concurrency: r.concurrency,
      chunkSize: r.chunk_size,
      errorPolicy: r.error_policy,
      errorThreshold:
        r.error_threshold_rate === null ? null : { rate: r.error_threshold_rate, minFinished: r.error_threshold_min_finished ?? 1 },
      interactive: r.interactive,
      maxRetries: r.max_retries,
      maxInterruptions: r.max_interruptions,
      retryBackoffMs: r.retry_backoff_ms,
      timeoutMs: r.timeout_ms,
      maxCost: r.max_cost,
      costReservation:
        r.cost_reservation === "mean" ? "mean" : r.cost_reservation === "per_record" ? { perRecord: r.cost_reservation_per_record ?? 0 } : null,
      priority: r.priority,
      webhookUrl: r.webhook_url,
      dryRun: r.dry_run,
      ttlSeconds: r.ttl_seconds ?? null,
      saveRaw: r.save_raw,
      cache: r.cache,
      cacheMaxAgeSeconds: r.cache_max_age_seconds,
      cacheAnswers: r.cache_answers,
      rateLimit: r.rate_limit
        ? { requestsPerMinute: r.rate_limit.requests_per_minute ?? null, tokensPerMinute: r.rate_limit.tokens_per_minute ?? null, key: r.rate_limit.key ?? null }
        : null,
    },
    counts: {
      total: r.total,
      pending: r.pending,
      running: r.running,
      reserved: r.reserved,
      waitingInput: r.waiting_input,
      waitingProvider: r.waiting_provider,
      succeeded: r.succeeded,
      failed: r.failed,
      cancelled: r.cancelled,
      skipped: r.skipped,
    },
    costSpent: r.cost_spent,
    reused: { jobs: r.cached, savedCost: r.cache_saved_cost },
    metadata: r.metadata ?? {},
    createdAt: r.created_at,
    startedAt: r.started_at,
    completedAt: r.completed_at,
    updatedAt: r.updated_at,
    itemsPerSecond,
    rateLimitKey: r.rate_limit_key ?? null,
  };
}

export interface JobRow {
  id: number;
  batch_id: string;
  record_id: string;
  ordinal: number;
  position: number;
  status: JobStatus;
  attempts: number;
  interruptions: number;
  run_at: Date;
  cost: number;
  cached_from: string | null;
  error_code: string | null;
  error_message: string | null;
  error_retryable: boolean | null;
  started_at: Date | null;
  finished_at: Date | null;
  duration_ms: number | null;
  result_preview: string | null;
}

/** How much of a result's JSON a job row carries (the jobs table's one-line preview). */
export const RESULT_PREVIEW_CHARS = 120;

export const JOB_COLUMNS = `j.id, j.batch_id, j.record_id, j.ordinal, j.position, j.status, j.attempts, j.interruptions, j.run_at, j.cost, j.cached_from,
  j.error_code, j.error_message, j.error_retryable, j.started_at, j.finished_at, j.duration_ms,
  CASE WHEN length(j.result::text) > ${RESULT_PREVIEW_CHARS} THEN left(j.result::text, ${RESULT_PREVIEW_CHARS}) || '…' ELSE j.result::text END AS result_preview`;

export function toJobError(r: { error_code: string | null; error_message: string | null; error_retryable: boolean | null }): JobError | null {
  if (r.error_code === null) return null;
  return { code: r.error_code, message: r.error_message ?? "", retryable: r.error_retryable ?? false };
}

export function toJob(r: JobRow): Job {
  return {
    batchId: r.batch_id,
    recordId: r.record_id,
    ordinal: r.ordinal,
    position: r.position,
    status: r.status,
    attempts: r.attempts,
    interruptions: r.interruptions,
    cost: r.cost,
    cachedFrom: r.cached_from,
    error: toJobError(r),
    runAt: r.run_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    durationMs: r.duration_ms,
    resultPreview: r.result_preview,
  };
}

export interface PromptRow {
  id: string;
  job_id: number;
  batch_id: string;
  record_id: string;
  key: string;
  question: string;
  input: PromptInput;
  default_value: unknown;
  status: PromptStatus;
  answer: unknown;
  answered_by: string | null;
  created_at: Date;
  answered_at: Date | null;
  expires_at: Date | null;
  record?: unknown;
}

export const PROMPT_SELECT = `p.*, j.record_id, r.data AS record
  FROM prompts p JOIN jobs j ON j.id = p.job_id JOIN batches b ON b.id = p.batch_id
  LEFT JOIN dataset_records r ON r.dataset_id = b.dataset_id AND r.position = j.position`;

export function toPrompt(r: PromptRow): Prompt {
  return {
    id: r.id,
    batchId: r.batch_id,
    recordId: r.record_id,
    key: r.key,
    question: r.question,
    input: r.input,
    defaultValue: r.default_value ?? null,
    status: r.status,
    answer: r.answer ?? null,
    answeredBy: r.answered_by,
    createdAt: r.created_at,
    answeredAt: r.answered_at,
    expiresAt: r.expires_at,
    record: r.record,
  };
}
