// Row -> engine type mapping (one place). A batch reads through Prisma Client as its model, or through
// the statements of lib/db/sql as a row typed by the same model (RowOf, lib/db/rows.ts): one mapper,
// toBatch, takes the model.
import type { Batch as BatchModel } from "@/lib/generated/prisma/client";
import { modelOf } from "@/lib/db/rows";
import type { BatchRow } from "@/lib/db/sql/batches";
import type { JobRow } from "@/lib/db/sql/jobs";
import type { PromptRow } from "@/lib/db/sql/prompts";
import type { Batch, Job, JobError, Prompt, StopDetail } from "./types";

export type { BatchRow } from "@/lib/db/sql/batches";

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

export type { JobRow } from "@/lib/db/sql/jobs";

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

export type { PromptRow } from "@/lib/db/sql/prompts";

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
