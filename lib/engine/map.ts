// Row -> engine type mapping (one place). A batch is its row: read through Prisma Client as its model,
// or through the statements of lib/db/sql as a row typed by the same model (RowOf, lib/db/rows.ts) and
// turned into the model by modelOf. lib/api/serialize.ts maps the model to the wire (toBatchJson).
import type { Batch as BatchModel } from "@/lib/generated/prisma/client";
import { modelOf } from "@/lib/db/rows";
import type { BatchRow } from "@/lib/db/sql/batches";
import type { JobRow } from "@/lib/db/sql/jobs";
import type { PromptRow } from "@/lib/db/sql/prompts";
import type { Job, JobError, Prompt } from "./types";

export type { BatchRow } from "@/lib/db/sql/batches";

/** A batch as the engine returns it: its row (the Prisma model) and its rate in jobs per second (null: none yet, or not read). */
export type BatchRead = BatchModel & { itemsPerSecond: number | null };

/** A batches row from SQL as the model, with its rate when read with BATCH_SELECT (else null). */
export function toBatch(r: BatchRow): BatchRead {
  return { ...modelOf<BatchModel>(r), itemsPerSecond: r.items_per_second ?? null };
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
