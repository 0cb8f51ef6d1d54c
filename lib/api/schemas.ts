// The API's zod schemas, request and response, snake_case as on the wire. The same schemas validate
// input, type the serializers (lib/api/serialize.ts) and generate the OpenAPI document.
import { z } from "zod";
import { BATCH_SORTS, SORT_ORDERS } from "@/lib/contract/batch-sort";
import { BATCH_STATUSES, JOB_STATUSES, PROMPT_STATUSES } from "@/lib/contract/statuses";
import { perMinuteSchema, rateLimitKeySchema } from "@/lib/contract/rate-limits";
import { INT4_MAX } from "@/lib/db/storable";
import { EmbedJobStatsSchema } from "@/lib/embed-jobs/schemas";

export const RESULT_FORMATS = ["jsonl", "csv", "openai"] as const;
export const UPLOAD_FORMATS = ["csv", "jsonl", "json", "openai", "files"] as const;

const iso = z.iso.datetime({ offset: true });
const nullableIso = iso.nullable();
const json = z.unknown();

// ---------- query helpers ----------

/** `?status=a,b` or `?status=a&status=b` -> ["a", "b"] */
export function listOf<T extends readonly [string, ...string[]]>(values: T) {
  return z.preprocess(
    (v) => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).flatMap((s) => String(s).split(",")).map((s) => s.trim()).filter(Boolean)),
    z.array(z.enum(values)).optional(),
  );
}

export const single = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (Array.isArray(v) ? v[v.length - 1] : v), schema);

export const limitParam = single(z.coerce.number().int().min(1).max(1000).default(50)) as unknown as z.ZodDefault<z.ZodNumber>;
export const cursorParam = z.string().min(1).max(4096).optional();
export const pageQuery = z.object({ cursor: cursorParam, limit: limitParam });

// ---------- path params ----------

export const idParams = z.object({ id: z.string().min(1).max(200) });
export const jobParams = z.object({ id: z.string().min(1).max(200), recordId: z.string().min(1).max(512) });

// ---------- requests ----------

/** POST /api/auth/signin: an API key to exchange for a session cookie */
export const signInSchema = z.strictObject({ key: z.string().min(1).max(512) });

/** POST /api/worker/run: how long the worker runs, in milliseconds */
export const runWorkerSchema = z.object({ max_ms: z.number().int().min(100).max(280_000).default(25_000) }).strict();

/** min_finished when error_threshold is given as a plain rate or without it: a first failure alone never stops a batch. */
export const DEFAULT_ERROR_THRESHOLD_MIN_FINISHED = 10;

const thresholdRate = z.number().gt(0).max(1);
export const errorThresholdSchema = z.union([
  z.strictObject({
    rate: thresholdRate.describe("fail the batch when failed/finished passes this rate"),
    min_finished: z
      .number()
      .int()
      .min(1)
      .max(INT4_MAX)
      .default(DEFAULT_ERROR_THRESHOLD_MIN_FINISHED)
      .describe(`only after this many jobs finished (default ${DEFAULT_ERROR_THRESHOLD_MIN_FINISHED})`),
  }),
  thresholdRate
    .transform((rate) => ({ rate, min_finished: DEFAULT_ERROR_THRESHOLD_MIN_FINISHED }))
    .describe(`a plain rate: 0.5 is {"rate": 0.5, "min_finished": ${DEFAULT_ERROR_THRESHOLD_MIN_FINISHED}}`),
]);

export const rateLimitSchema = z
  .strictObject({
    requests_per_minute: perMinuteSchema.optional().describe("calls a minute, across every worker"),
    tokens_per_minute: perMinuteSchema
      .optional()
      .describe("tokens a minute: each call is charged the flow's estimate before it runs and corrected by the usage it reports"),
    key: rateLimitKeySchema
      .optional()
      .describe(
        "share one budget with every batch naming this key (e.g. openai:gpt-4o-mini); a key declared in BATCHBOARD_RATE_LIMITS takes the declared rates, or these where lower",
      ),
  })
  .refine((r) => r.requests_per_minute !== undefined || r.tokens_per_minute !== undefined || r.key !== undefined, {
    message: "give requests_per_minute, tokens_per_minute or key",
  })
  .describe(
    "how fast the batch may call its provider, held across workers and processes; a 429 with Retry-After pauses the limit, one without it halves its rate until it climbs back",
  );

export const createBatchSchema = z
  .strictObject({
    flow: z.string().min(1).describe("registered flow name (GET /api/flows)"),
    name: z.string().max(200).nullish(),
    parameters: z.record(z.string(), json).nullish().describe("the flow's parameters (validated against its schema)"),
    dataset: z.string().min(1).nullish().describe("dataset id or name; with neither dataset nor records, the flow's default dataset"),
    records: z.array(json).nullish().describe("inline records: objects with an id in record_id_field, or plain strings"),
    record_id_field: z.string().min(1).max(200).nullish(),
    shuffle: z.boolean().default(true),
    seed: z.string().max(200).nullish(),
    max_records: z.number().int().min(1).max(INT4_MAX).nullish(),
    concurrency: z.number().int().min(1).max(1000).default(5).describe("calls at once (with chunk_size, each call runs up to chunk_size records)"),
    chunk_size: z
      .number()
      .int()
      .min(1)
      .nullish()
      .describe("records per call, for flows that chunk (GET /api/flows: chunk); default the flow's, at most its max_size"),
    error_policy: z.enum(["continue", "stop"]).default("continue"),
    error_threshold: errorThresholdSchema.nullish(),
    interactive: z.boolean().default(false),
    max_retries: z.number().int().min(0).max(100).nullish(),
    max_interruptions: z
      .number()
      .int()
      .min(0)
      .max(100)
      .nullish()
      .describe("runs lost to a crash (the worker's lease lapsed) that are run again whatever max_retries says; past it the record fails with `interrupted` (default 3)"),
    retry_backoff_ms: z.number().int().min(0).max(86_400_000).nullish(),
    timeout_ms: z.number().int().min(1).max(86_400_000).nullish(),
    max_cost: z.number().min(0).nullish(),
    cost_reservation: z
      .union([z.object({ per_record: z.number().min(0) }).strict(), z.literal("mean")])
      .nullish()
      .describe(
        "with max_cost: before a job starts, each running job's estimated cost counts against the budget, so the batch ends within one job's cost of max_cost (when the estimate is not below the real cost). {per_record: x}: a fixed estimate; \"mean\": the batch's mean cost per finished record (one job at a time until one has finished). Without it, every job in flight may still spend: up to concurrency jobs' cost past max_cost",
      ),
    priority: z.number().int().min(-1000).max(1000).nullish(),
    metadata: z.record(z.string(), json).nullish(),
    webhook_url: z.url({ protocol: /^https?$/ }).nullish(),
    dry_run: z.boolean().default(false).describe("run only the first 10 records"),
    ttl_seconds: z
      .number()
      .int()
      .min(1)
      .max(31_536_000)
      .nullish()
      .describe("delete the batch this many seconds after it finishes (default: BATCHBOARD_RETENTION_DAYS applies)"),
    save_raw: z
      .boolean()
      .default(false)
      .describe("the zip export (results?format=zip) writes each record's raw provider response to raw/ (flows llm and openai)"),
    cache: z
      .boolean()
      .nullish()
      .describe(
        "reuse results: a record whose flow, parameters and record data equal those of a succeeded job of an earlier batch takes that job's result without running the flow (its job shows cached_from, costs nothing and counts as succeeded). Default: the flow's (GET /api/flows), else false",
      ),
    cache_max_age: z
      .number()
      .int()
      .min(1)
      .max(31_536_000)
      .nullish()
      .describe("with cache: reuse only results made at most this many seconds ago (default: any age)"),
    cache_answers: z
      .boolean()
      .default(false)
      .describe("with cache: also reuse results a person's answers went into (by default a record that was answered in the Inbox runs again)"),
    rate_limit: rateLimitSchema.nullish(),
  })
  .refine((b) => !(b.records && b.dataset), { path: ["records"], message: "give records or dataset, not both" });
export type CreateBatchBody = z.input<typeof createBatchSchema>;

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

export const listJobsQuery = z.object({
  status: listOf(JOB_STATUSES),
  q: single(z.string().max(200).optional()),
  sort: single(z.enum(["ordinal", "finished"]).default("ordinal")),
  cursor: cursorParam,
  limit: limitParam,
});

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

export const listPromptsQuery = z.object({
  status: listOf(PROMPT_STATUSES),
  batch_id: single(z.string().min(1).max(200).optional()),
  cursor: cursorParam,
  limit: limitParam,
});

/** The details of a 409 to an answer: what became of the prompt, so a refused answer says who won. */
export const PromptConflictDetailSchema = z.object({
  path: z.literal("answer"),
  message: z.string(),
  status: z.enum(PROMPT_STATUSES),
  answered_by: z.string().nullable(),
  answered_at: nullableIso,
  answer: json.describe("the answer kept (null unless answered)"),
});

export const answerPromptSchema = z
  .strictObject({ answer: json.describe("validated against the prompt's input spec") })
  .refine((b) => b.answer !== undefined, { path: ["answer"], message: "answer is required" });

export const createDatasetSchema = z.strictObject({
  name: z.string().min(1).max(200),
  records: z.array(json).min(1),
  id_field: z.string().min(1).max(200).nullish(),
  description: z.string().max(2000).nullish(),
});

export const uploadDatasetQuery = z.object({
  name: single(z.string().min(1).max(200).optional()),
  format: single(z.enum(UPLOAD_FORMATS).optional()).describe("default: from the Content-Type or the file name"),
  id_field: single(z.string().min(1).max(200).optional()),
  description: single(z.string().max(2000).optional()),
});

// ---------- responses ----------

export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ path: z.string().optional(), message: z.string() }).loose()),
  }),
});

export const BatchOptionsSchema = z.object({
  shuffle: z.boolean(),
  seed: z.string().nullable(),
  max_records: z.number().int().nullable(),
  concurrency: z.number().int(),
  chunk_size: z.number().int().describe("records per call (1 for a flow that does not chunk)"),
  error_policy: z.enum(["continue", "stop"]),
  error_threshold: z.object({ rate: z.number(), min_finished: z.number().int() }).nullable(),
  interactive: z.boolean(),
  max_retries: z.number().int(),
  max_interruptions: z.number().int(),
  retry_backoff_ms: z.number().int(),
  timeout_ms: z.number().int().nullable(),
  max_cost: z.number().nullable(),
  cost_reservation: z.union([z.object({ per_record: z.number() }), z.literal("mean")]).nullable(),
  priority: z.number().int(),
  webhook_url: z
    .string()
    .nullable()
    .describe("the completion webhook URL, with query values, user-info and fragment shown as *** (the full URL is kept for delivery)")
    .meta({ examples: ["https://hooks.example.com/batchboard?token=***&team=***"] }),
  dry_run: z.boolean(),
  ttl_seconds: z.number().int().nullable().describe("deleted this many seconds after it finished; null: BATCHBOARD_RETENTION_DAYS applies"),
  save_raw: z.boolean(),
  cache: z.boolean(),
  cache_max_age: z.number().int().nullable(),
  cache_answers: z.boolean(),
  rate_limit: z
    .object({ requests_per_minute: z.number().int().optional(), tokens_per_minute: z.number().int().optional(), key: z.string().optional() })
    .nullable()
    .describe("the rate limit as asked for; the limit in force is the batch's rate_limit"),
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

const count = z.number().int();

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

export const JobErrorSchema = z.object({ code: z.string(), message: z.string(), retryable: z.boolean() });

export const JobSchema = z.object({
  record_id: z.string(),
  ordinal: z.number().int(),
  position: z.number().int(),
  status: z.enum(JOB_STATUSES),
  attempts: z.number().int().describe("the flow's attempts, counting on after a manual retry; a run handed back at a worker's stop or lost to a crash is not one"),
  interruptions: z.number().int().describe("runs lost to a crash (the worker's lease lapsed): run again, up to the batch's max_interruptions"),
  cost: z.number(),
  cached_from: z.string().nullable().describe("the batch whose result this job reused (options.cache); null when the flow ran"),
  error: JobErrorSchema.nullable(),
  started_at: nullableIso,
  finished_at: nullableIso,
  duration_ms: z.number().nullable(),
  result_preview: z.string().nullable().describe("the start of the result as JSON, one line of at most 120 characters and an ellipsis; null without a result"),
});
export type Job = z.infer<typeof JobSchema>;

export const PromptInputSchema = z.union([
  z.object({
    type: z.literal("choice"),
    options: z.array(z.object({ value: z.string(), label: z.string().optional() })),
    allow_free_text: z.boolean(),
  }),
  z.object({ type: z.literal("text"), multiline: z.boolean(), max_length: z.number().int().nullable() }),
  z.object({ type: z.literal("number"), min: z.number().nullable(), max: z.number().nullable() }),
  z.object({ type: z.literal("boolean") }),
  z.object({ type: z.literal("json"), schema: z.record(z.string(), json).nullable() }),
]);

export const PromptSchema = z.object({
  id: z.string(),
  batch_id: z.string(),
  record_id: z.string(),
  key: z.string(),
  question: z.string(),
  input: PromptInputSchema,
  default: json,
  status: z.enum(PROMPT_STATUSES),
  answer: json,
  answered_by: z.string().nullable(),
  created_at: iso,
  answered_at: nullableIso,
  expires_at: nullableIso,
  record: json,
});
export type Prompt = z.infer<typeof PromptSchema>;

export const JobDetailSchema = JobSchema.extend({
  batch_id: z.string(),
  record: json,
  result: json,
  logs: z.array(z.object({ at: z.string(), level: z.enum(["info", "warn", "error"]), message: z.string() })),
  run_at: iso,
  prompts: z.array(PromptSchema),
  attempt_history: z
    .array(
      z.object({
        attempt: z.number().int().describe("1 for the first run of the flow; a manual retry keeps counting"),
        outcome: z.enum(["succeeded", "failed", "retried"]).describe("retried: the attempt failed and the record ran again"),
        started_at: nullableIso,
        finished_at: iso,
        duration_ms: z.number().int().nullable(),
        cost: z.number(),
        error: z.object({ code: z.string(), message: z.string() }).nullable(),
      }),
    )
    .describe("each attempt of the flow that ended, oldest first (a run handed back at a stop, parked on a question or lost to a crash is not one)"),
});
export type JobDetail = z.infer<typeof JobDetailSchema>;

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

export const ResultLineSchema = z.object({
  record_id: z.string(),
  status: z.enum(JOB_STATUSES),
  result: json,
  error: JobErrorSchema.nullable(),
  cost: z.number(),
});
export type ResultLine = z.infer<typeof ResultLineSchema>;

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

export const FlowSchema = z.object({
  name: z.string(),
  description: z.string(),
  parameters_schema: z.record(z.string(), json),
  default_dataset: z.string().nullable(),
  cache: z.boolean().describe("batches of this flow reuse earlier results unless they say cache: false"),
  asks: z
    .object({
      default_parameter: z
        .string()
        .nullable()
        .describe("answers in a batch that is not interactive; unset there, every record fails with input_required (null: each question carries its own default)"),
    })
    .nullable()
    .describe("the flow asks a human in the Inbox (interactive batches); null when it never asks"),
  chunk: z
    .object({
      default_size: z.number().int().nullable().describe("null when the sizes depend on a mode (modes)"),
      max_size: z.number().int().nullable(),
      min_size: z.number().int().nullable(),
      parameter: z.string().nullable().describe("the flow chunks only in batches that set this parameter (null: always)"),
      modes: z
        .record(z.string(), z.object({ default_size: z.number().int(), max_size: z.number().int(), min_size: z.number().int() }))
        .nullable()
        .describe("the sizes per value of parameter (a mode of the flow); a value not listed runs one record per call"),
    })
    .nullable()
    .describe("the flow runs many records per call: a batch's chunk_size defaults to default_size, from min_size to max_size (per mode: modes); null: one record per call"),
});

export const DatasetSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(["upload", "demo", "inline"]),
  description: z.string().nullable(),
  format: z.string().nullable(),
  id_field: z.string().nullable(),
  record_count: z.number().int(),
  size_bytes: z.number().int(),
  created_at: iso,
});
export type Dataset = z.infer<typeof DatasetSchema>;

export const DatasetRecordSchema = z.object({ record_id: z.string(), position: z.number().int(), data: json });

const countsOf = <T extends readonly string[]>(keys: T) =>
  z.object(Object.fromEntries(keys.map((k) => [k, z.number().int()])) as Record<T[number], z.ZodNumber>);

export const StatsSchema = z.object({
  jobs: countsOf(JOB_STATUSES),
  batches: countsOf(BATCH_STATUSES).extend({ active: z.number().int() }),
  queue_depth: z.number().int(),
  workers: z.object({ live: z.number().int() }),
  open_prompts: z.number().int(),
  throughput: z.object({ last_1m: z.number(), last_5m: z.number(), last_60m: z.number() }),
  series: z.array(z.object({ t: iso, succeeded: z.number().int(), failed: z.number().int() })),
  batch_jobs: EmbedJobStatsSchema.describe("the embedding jobs of /api/batch"),
});
export type Stats = z.infer<typeof StatsSchema>;

export const WorkerSchema = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.number().int(),
  mode: z.string(),
  concurrency: z.number().int(),
  started_at: iso,
  heartbeat_at: iso,
  running: z.number().int(),
  processed: z.number().int(),
  failed: z.number().int(),
  alive: z.boolean(),
});

export const listSchema = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), next_cursor: z.string().nullable(), total: z.number().int() });
