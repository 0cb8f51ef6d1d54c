// The batches' wire schemas: list and action requests, the batch as shown, its outcome, summary,
// metrics and provider batches. snake_case, as on the wire.
import { z } from "zod";
import { BATCH_SORTS, SORT_ORDERS } from "./batch-sort";
import { BatchOptionsSchema } from "./batch-options";
import { BATCH_STATUSES, JOB_STATUSES } from "./statuses";
import { count, cursorParam, iso, json, limitParam, listOf, nullableIso, RESULT_FORMATS, single } from "./wire";

export const listBatchesQuery = z.object({
  status: listOf(BATCH_STATUSES),
  flow: single(z.string().min(1).max(200).optional()),
  q: single(z.string().max(200).optional()),
  parent: single(z.string().min(1).max(200).optional()).describe("only the batches run again from this batch"),
  sort: single(z.enum(BATCH_SORTS).default("created")).describe(
    "created (creation time), progress (share of records in a final state), cost (spent) or rate (jobs per second; none sorts lowest); ties by id",
  ),
  order: single(z.enum(SORT_ORDERS).default("desc")),
  cursor: cursorParam.describe("next_cursor of the previous page, with the same sort and order"),
  limit: limitParam,
});

export const retryBatchSchema = z.strictObject({
  statuses: z.array(z.enum(["failed", "cancelled", "skipped"])).min(1).default(["failed"]),
});

export const BULK_RECORD_IDS_MAX = 1000;

export const bulkJobsSchema = z
  .strictObject({
    action: z.enum(["retry", "cancel"]).describe("retry applies to failed and cancelled jobs; cancel to pending, waiting_input and waiting_provider ones"),
    record_ids: z.array(z.string().min(1).max(512)).min(1).max(BULK_RECORD_IDS_MAX).optional().describe("these jobs, by record id"),
    filter: z
      .strictObject({ status: z.array(z.enum(JOB_STATUSES)).optional(), q: z.string().max(200).optional() })
      .optional()
      .describe("the jobs the jobs list shows with the same status and q (at most 100,000)"),
  })
  .refine((b) => (b.record_ids === undefined) !== (b.filter === undefined), { path: ["record_ids"], message: "give record_ids or filter, exactly one" });

export const resultsQuery = z.object({
  format: single(z.enum([...RESULT_FORMATS, "zip"]).default("jsonl")).describe(
    "zip: a folder of processed/<record>.json, raw/<record>.json (with save_raw) and summary.json",
  ),
  status: listOf(JOB_STATUSES),
});

/** A result field as the summary takes it: `result` and dot-separated keys (`result.label`, `result.scores.0`). */
export const RESULT_FIELD_PATTERN = /^result(\.[^.,\s[\]]{1,200}){0,16}$/;
/** A result field's keys below `result`: "result.a.b" -> ["a", "b"]; "result" -> []. */
export const resultPath = (field: string): string[] => field.split(".").slice(1);
const resultFieldList = z.preprocess(
  (v) => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).flatMap((s) => String(s).split(",")).map((s) => s.trim()).filter(Boolean)),
  z
    .array(
      z.string().regex(RESULT_FIELD_PATTERN, {
        error: (i) => `${JSON.stringify(i.input)} is not a result field: write result.<key>[.<key>...] (keys without dots, commas, spaces or brackets)`,
      }),
    )
    .max(10)
    .optional(),
);

export const summaryQuery = z.object({
  group_by: resultFieldList.describe("result fields to count values of, e.g. result.label (repeat or comma-separate; up to 10)"),
  stats: resultFieldList.describe("numeric result fields to describe, e.g. result.score (repeat or comma-separate; up to 10)"),
  top: single(z.coerce.number().int().min(1).max(100).default(10)).describe("values listed per group_by field; the rest are counted as other"),
  auto: single(z.enum(["true", "false"]).default("false"))
    .transform((v) => v === "true")
    .describe(
      "true: where group_by or stats name no field, the summary chooses from `fields`: the label-like field (result.label for classify and review, else one named like a label or the first of strings) and up to 3 numeric fields",
    ),
});

export const metricsQuery = z.object({
  bucket: single(z.coerce.number().int().min(1).max(86_400).optional()).describe("bucket width in seconds (default: automatic)"),
});

const perMinute = z.number().nullable();
export const BatchRateLimitSchema = z
  .object({
    key: z.string().nullable().describe("the shared key; null for a limit of the batch's own"),
    requests_per_minute: perMinute.describe("the limit in force (the lower of the batch's and its key's)"),
    tokens_per_minute: perMinute,
    current_requests_per_minute: perMinute.describe("the rate in use now: lower after a 429 without Retry-After, climbing back"),
    current_tokens_per_minute: perMinute,
    paused_until: nullableIso.describe("set while a 429's Retry-After pauses the limit"),
    recent_requests_per_minute: perMinute.describe("calls a minute over the last 10-20 s, every batch of the key together"),
    recent_tokens_per_minute: perMinute,
    shared_with: z.number().int().nullable().describe("other batches not finished drawing from the same key"),
    waiting: z.boolean().nullable().describe("paused or no call free: the batch's next calls wait on the limit"),
  })
  .nullable()
  .describe("the rate limit in force, live on GET /api/batches/{id} (elsewhere the live fields are null); null without a limit");

/** What stopped a batch, with the numbers as they stood when it stopped. */
export const BatchStopSchema = z.discriminatedUnion("reason", [
  z.object({
    reason: z.literal("error_threshold"),
    failed: count,
    finished: count.describe("succeeded + failed when it stopped"),
    rate: z.number().describe("failed / finished"),
    threshold: z.number().describe("the batch's error_threshold.rate"),
    min_finished: count,
  }),
  z.object({
    reason: z.literal("error_policy"),
    failed: count,
    record_id: z.string().nullable().describe("the record whose failure stopped the batch"),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
  }),
  z.object({ reason: z.literal("budget_exhausted"), spent: z.number().describe("spent when it stopped"), max_cost: z.number() }),
]);

const processedShare = {
  processed: count.describe("records the flow ran to an end (succeeded or failed)"),
  total: count,
  percent: z.number().describe("processed / total * 100"),
};

/** How a finished batch ended, beside its status; null while it is pending, running or paused. */
export const BatchOutcomeSchema = z
  .discriminatedUnion("kind", [
    z.object({ kind: z.literal("all_succeeded"), succeeded: count }),
    z.object({ kind: z.literal("some_failed"), succeeded: count, failed: count }),
    z.object({ kind: z.literal("all_failed"), failed: count }),
    z.object({ kind: z.literal("cancelled_at"), ...processedShare }),
    z.object({ kind: z.literal("stopped"), ...processedShare, stop: BatchStopSchema }),
  ])
  .nullable();
export type BatchOutcome = z.infer<typeof BatchOutcomeSchema>;

export const BatchSchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  flow: z.string(),
  parameters: json,
  dataset_id: z.string().nullable(),
  parent_id: z.string().nullable().describe("the batch this one was run again from (POST /api/batches/{id}/clone)"),
  status: z.enum(BATCH_STATUSES),
  stop_reason: z.string().nullable(),
  outcome: BatchOutcomeSchema.describe(
    "how it ended: all_succeeded, some_failed, all_failed (completed), cancelled_at (the share processed), stopped (the reason and its numbers); null while active",
  ),
  options: BatchOptionsSchema,
  progress: z.object({
    total: z.number().int(),
    pending: z.number().int(),
    running: z.number().int().describe("jobs started, in the batch's slots: at most its concurrency"),
    reserved: z
      .number()
      .int()
      .describe("jobs a worker claimed ahead, to start in one of its slots of this batch as soon as one frees; listed as running, with no start time yet"),
    waiting_input: z.number().int(),
    waiting_provider: z.number().int().describe("records sent to the provider's batch tier (mode provider_batch), waiting for its results"),
    succeeded: z.number().int(),
    failed: z.number().int(),
    cancelled: z.number().int(),
    skipped: z.number().int(),
    percent: z.number().describe("records in a final state (succeeded, failed, cancelled or skipped) / total * 100"),
  }),
  cost: z.object({ spent: z.number(), max: z.number().nullable(), projected_total: z.number().nullable() }),
  reused: z
    .object({
      jobs: z.number().int().describe("jobs that took an earlier batch's result (options.cache): counted as succeeded"),
      saved_cost: z.number().describe("what those results cost when they were made"),
    })
    .describe("results reused from earlier batches instead of running the flow"),
  timing: z.object({
    created_at: iso,
    started_at: nullableIso,
    completed_at: nullableIso,
    duration_seconds: z.number().nullable(),
    items_per_second: z.number().nullable(),
    eta_seconds: z.number().nullable(),
  }),
  metadata: z.record(z.string(), json),
  rate_limit: BatchRateLimitSchema,
});
export type Batch = z.infer<typeof BatchSchema>;

export const BatchWarningSchema = z.object({
  code: z.enum(["input_required"]),
  path: z.string().describe("the option to change"),
  message: z.string(),
});

/** POST /api/batches: the batch, and what is worth saying about it before it runs (dry runs too). */
export const CreatedBatchSchema = BatchSchema.extend({
  warnings: z
    .array(BatchWarningSchema)
    .describe("e.g. input_required: the flow asks a human, and this batch is not interactive and sets no default answer, so every record will fail"),
});

export const RetryBatchResponseSchema = z.object({ batch: BatchSchema, retried: z.number().int() });

export const BulkJobsResponseSchema = z.object({
  action: z.enum(["retry", "cancel"]),
  applies_to: z.array(z.enum(JOB_STATUSES)).describe("the statuses the action moves; jobs in any other status are left unchanged"),
  matched: z.number().int().describe("jobs the record ids or the filter named"),
  changed: z.number().int().describe("jobs retried (back to pending) or cancelled"),
  unchanged: z.number().int().describe("matched jobs in a status the action does not apply to"),
  not_found: z.array(z.string()).describe("record ids that are not jobs of this batch"),
  message: z.string(),
  batch: BatchSchema,
});

export type BulkJobsResponse = z.infer<typeof BulkJobsResponseSchema>;

export const DeletedBatchSchema = z.object({
  id: z.string(),
  deleted: z.literal(true),
  jobs_deleted: z.number().int().describe("the jobs deleted with it, with their attempts, prompts and results"),
});

export const MetricsSchema = z.object({
  bucket_seconds: z.number().int(),
  series: z.array(
    z.object({
      t: iso,
      succeeded: z.number().int(),
      failed: z.number().int(),
      cost: z.number(),
      cumulative_cost: z.number(),
      p50_ms: z.number().nullable().describe("median duration of the jobs that finished in this interval (exact, interpolated between ranks)"),
      p95_ms: z.number().nullable().describe("95th percentile duration of the jobs that finished in this interval"),
    }),
  ),
});

/** GET /api/batches/{id}/provider-batches: the groups of a batch's records sent to a provider's batch tier (mode provider_batch) */
export const ProviderBatchSchema = z
  .object({
    id: z.string().describe("Batchboard's id of this provider batch"),
    provider: z.enum(["openai", "anthropic"]),
    provider_batch_id: z.string().nullable().describe("the provider's own id (batch_… or msgbatch_…); null while it is being submitted (status submitting)"),
    status: z.string().describe("the provider's status as last polled (validating, in_progress, completed, expired, ended, …)"),
    requests: z.number().int().describe("records sent in it"),
    succeeded: z.number().int(),
    failed: z.number().int().describe("records the provider failed, expired or cancelled, or returned nothing readable for"),
    submitted_at: iso,
    expires_at: nullableIso.describe("when the provider gives up on what it has not run"),
    ended_at: nullableIso.describe("when its results were read back and its records woken"),
    cancel_requested_at: nullableIso.describe("when a cancel, pause or stop of the batch cancelled it at the provider"),
    polls: z.number().int(),
    next_poll_at: nullableIso,
    error: z.string().nullable().describe("why the provider failed it, what of its output could not be read, or why the last poll failed"),
  });

export const ProviderBatchesSchema = z.object({ items: z.array(ProviderBatchSchema) });

const nullableNumber = z.number().nullable();

/** GET /api/batches/{id}/summary */
export const BatchSummarySchema = z.object({
  batch_id: z.string(),
  status: z.enum(BATCH_STATUSES),
  outcome: BatchOutcomeSchema,
  counts: z.object({ total: count, ...Object.fromEntries(JOB_STATUSES.map((s) => [s, count])) } as Record<"total" | (typeof JOB_STATUSES)[number], typeof count>),
  partial_success: z
    .object({
      succeeded: count,
      failed: count,
      failure_rate: z.number().describe("failed / (succeeded + failed)"),
      threshold: nullableNumber.describe("the batch's error_threshold.rate, when it has one"),
    })
    .nullable()
    .describe("set when records both succeeded and failed and the batch was not stopped for it (under its error threshold)"),
  errors: z.array(z.object({ code: z.string(), count })).describe("failed records by error code, most frequent first (up to 10)"),
  retries_used: count.describe("attempts beyond each record's first, summed"),
  cost: z.object({
    total: z.number(),
    mean_per_record: nullableNumber.describe("total / records that ran (succeeded or failed)"),
    max_cost: nullableNumber,
  }),
  duration_ms: z
    .object({ count, mean: nullableNumber, min: nullableNumber, max: nullableNumber, p50: nullableNumber, p95: nullableNumber })
    .describe("from each finished record's started_at to finished_at (its last attempt); p50/p95 interpolated"),
  fields: z
    .array(z.object({ field: z.string(), types: z.array(z.string()).describe("JSON types seen: string, number, boolean, object, array, null"), count }))
    .describe("top-level result fields in the first 1,000 results (source order), for choosing group_by and stats"),
  group_by: z.array(
    z.object({
      field: z.string(),
      present: count.describe("results with a value at the field"),
      missing: count.describe("results without one (absent or null)"),
      distinct: count,
      values: z.array(z.object({ value: json, count })).describe("the most frequent values, most frequent first"),
      other: count.describe("results whose value is not listed"),
    }),
  ),
  stats: z.array(
    z.object({
      field: z.string(),
      count,
      missing: count,
      mean: nullableNumber,
      min: nullableNumber,
      max: nullableNumber,
      p50: nullableNumber,
      p95: nullableNumber,
      histogram: z.array(z.object({ from: z.number(), to: z.number(), count })).describe("equal-width bins from min to max (one per integer when a few integers)"),
    }),
  ),
});
export type BatchSummary = z.infer<typeof BatchSummarySchema>;
