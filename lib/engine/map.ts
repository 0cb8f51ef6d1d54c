// Row -> engine type mapping (one place). A batch reads through Prisma Client as its model, or through
// hand-written SQL as a row typed by the same model (RowOf): one mapper, toBatch, takes the model.
import type { PromptInput } from "@/lib/flows/types";
import type { Batch as BatchModel, Job as JobModel } from "@/lib/generated/prisma/client";
import { modelOf, type RowOf } from "@/lib/db/rows";
import type { BatchRow } from "@/lib/db/sql/batches";
import type { Batch, Job, JobError, Prompt, PromptStatus, StopDetail } from "./types";


export { BATCH_RATE_SQL, BATCH_SELECT, batchExpiredSql, type BatchRow } from "@/lib/db/sql/batches";

/** A batches row from SQL as Batch; its rate only when read with BATCH_SELECT (else null). */
export function toBatch(r: BatchRow): Batch {
  return batchOf(modelOf<BatchModel>(r), r.items_per_second ?? null);
}

/** The Prisma model of a batch as Batch, with its rate in jobs per second (null: none yet, or not read). */
export function batchOf(r: BatchModel, itemsPerSecond: number | null): Batch {
  const rateLimit = r.rateLimit as { requests_per_minute?: number; tokens_per_minute?: number; key?: string } | null;
  return {
    id: r.id,
    name: r.name,
    flow: r.flow,
    parameters: r.parameters,
    datasetId: r.datasetId,
    parentId: r.parentId,
    status: r.status,
    stopReason: r.stopReason,
    stopDetail: (r.stopDetail as StopDetail | null) ?? null,
    options: {
      shuffle: r.shuffle,
      seed: r.seed,
      maxRecords: r.maxRecords,
      concurrency: r.concurrency,
      chunkSize: r.chunkSize,
      errorPolicy: r.errorPolicy,
      errorThreshold:
        r.errorThresholdRate === null ? null : { rate: r.errorThresholdRate, minFinished: r.errorThresholdMinFinished ?? 1 },
      interactive: r.interactive,
      maxRetries: r.maxRetries,
      maxInterruptions: r.maxInterruptions,
      retryBackoffMs: r.retryBackoffMs,
      timeoutMs: r.timeoutMs,
      maxCost: r.maxCost,
      costReservation:
        r.costReservation === "mean" ? "mean" : r.costReservation === "per_record" ? { perRecord: r.costReservationPerRecord ?? 0 } : null,
      priority: r.priority,
      webhookUrl: r.webhookUrl,
      dryRun: r.dryRun,
      ttlSeconds: r.ttlSeconds ?? null,
      saveRaw: r.saveRaw,
      cache: r.cache,
      cacheMaxAgeSeconds: r.cacheMaxAgeSeconds,
      cacheAnswers: r.cacheAnswers,
      rateLimit: rateLimit
        ? { requestsPerMinute: rateLimit.requests_per_minute ?? null, tokensPerMinute: rateLimit.tokens_per_minute ?? null, key: rateLimit.key ?? null }
        : null,
    },
    counts: {
      total: r.total,
      pending: r.pending,
      running: r.running,
      reserved: r.reserved,
      waitingInput: r.waitingInput,
      waitingProvider: r.waitingProvider,
      succeeded: r.succeeded,
      failed: r.failed,
      cancelled: r.cancelled,
      skipped: r.skipped,
    },
    costSpent: r.costSpent,
    reused: { jobs: r.cached, savedCost: r.cacheSavedCost },
    metadata: (r.metadata as Record<string, unknown> | null) ?? {},
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    completedAt: r.completedAt,
    updatedAt: r.updatedAt,
    itemsPerSecond,
    rateLimitKey: r.rateLimitKey ?? null,
  };
}

/**
 * A jobs row as JOB_COLUMNS selects it, typed by the Prisma model; id is a number (lib/db/client.ts
 * parses int8 as one), and the result comes as its one-line preview.
 */
export type JobRow = Pick<RowOf<JobModel>, "batch_id" | "record_id" | "ordinal" | "position" | "status" | "attempts" | "interruptions" | "run_at" | "cost" | "cached_from" | "error_code" | "error_message" | "error_retryable" | "started_at" | "finished_at" | "duration_ms"> & {
  id: number;
  result_preview: string | null;
};

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
