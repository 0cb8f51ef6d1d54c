// A batch's options: what POST /api/batches takes (createBatchSchema) and what a batch shows
// (BatchOptionsSchema). The ranges are declared here once, for the API, the engine's createBatch, the
// other surfaces that create batches, the New batch form and the OpenAPI document.
import { z } from "zod";
import { perMinuteSchema, rateLimitKeySchema } from "./rate-limits";
import { INT4_MAX, json } from "./wire";

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

/** a year: the longest a finished batch may be kept by its own ttl_seconds, and the oldest result cache_max_age reuses */
export const TTL_SECONDS_MAX = 31_536_000;

/**
 * The ranges of a batch's numeric options, declared once: the options below are made of them, and so
 * are the /v1 batches' own options (lib/openai/schemas.ts).
 */
export const BATCH_OPTION_RANGES = {
  max_records: z.number().int().min(1).max(INT4_MAX),
  concurrency: z.number().int().min(1).max(1000),
  max_retries: z.number().int().min(0).max(100),
  max_interruptions: z.number().int().min(0).max(100),
  retry_backoff_ms: z.number().int().min(0).max(86_400_000),
  timeout_ms: z.number().int().min(1).max(86_400_000),
  max_cost: z.number().min(0),
  priority: z.number().int().min(-1000).max(1000),
  ttl_seconds: z.number().int().min(1).max(TTL_SECONDS_MAX),
  cache_max_age: z.number().int().min(1).max(TTL_SECONDS_MAX),
};
const R = BATCH_OPTION_RANGES;

/** The longest name a batch may have. */
export const BATCH_NAME_MAX = 200;
/** A name made from longer text (a command, a file name) cut to fit, with an ellipsis; never between the two halves of a surrogate pair (an emoji). */
export function fitBatchName(text: string): string {
  if (text.length <= BATCH_NAME_MAX) return text;
  const cut = BATCH_NAME_MAX - 1;
  const code = text.charCodeAt(cut - 1);
  return `${text.slice(0, code >= 0xd800 && code <= 0xdbff ? cut - 1 : cut)}…`;
}

/**
 * A batch's settings, as POST /api/batches names them, with their ranges and defaults: everything of
 * the body but the flow, its parameters and the source. createBatchSchema is made of them, and the
 * engine's createBatch parses what every other caller (a run again, /v1, /batch, /api/batch) passes
 * through batchOptionsSchema, so a setting is checked the same way whoever creates the batch.
 */
export const batchOptionsShape = {
  name: z.string().max(BATCH_NAME_MAX).nullish(),
  shuffle: z.boolean().default(true),
  seed: z.string().max(200).nullish(),
  max_records: R.max_records.nullish(),
  concurrency: R.concurrency.default(5).describe("calls at once (with chunk_size, each call runs up to chunk_size records)"),
  chunk_size: z
    .number()
    .int()
    .min(1)
    .nullish()
    .describe("records per call, for flows that chunk (GET /api/flows: chunk); default the flow's, at most its max_size"),
  error_policy: z.enum(["continue", "stop"]).default("continue"),
  error_threshold: errorThresholdSchema.nullish(),
  interactive: z.boolean().default(false),
  max_retries: R.max_retries.nullish(),
  max_interruptions: R.max_interruptions
    .nullish()
    .describe("runs lost to a crash (the worker's lease lapsed) that are run again whatever max_retries says; past it the record fails with `interrupted` (default 3)"),
  retry_backoff_ms: R.retry_backoff_ms.nullish(),
  timeout_ms: R.timeout_ms.nullish(),
  max_cost: R.max_cost.nullish(),
  cost_reservation: z
    .union([z.object({ per_record: z.number().min(0) }).strict(), z.literal("mean")])
    .nullish()
    .describe(
      "with max_cost: before a job starts, each running job's estimated cost counts against the budget, so the batch ends within one job's cost of max_cost (when the estimate is not below the real cost). {per_record: x}: a fixed estimate; \"mean\": the batch's mean cost per finished record (one job at a time until one has finished). Without it, every job in flight may still spend: up to concurrency jobs' cost past max_cost",
    ),
  priority: R.priority.nullish(),
  metadata: z.record(z.string(), json).nullish(),
  webhook_url: z.url({ protocol: /^https?$/ }).nullish(),
  dry_run: z.boolean().default(false).describe("run only the first 10 records"),
  ttl_seconds: R.ttl_seconds
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
  cache_max_age: R.cache_max_age.nullish().describe("with cache: reuse only results made at most this many seconds ago (default: any age)"),
  cache_answers: z
    .boolean()
    .default(false)
    .describe("with cache: also reuse results a person's answers went into (by default a record that was answered in the Inbox runs again)"),
  rate_limit: rateLimitSchema.nullish(),
};

/** What the settings must satisfy together. */
function checkTogether(b: { max_cost?: number | null; cost_reservation?: unknown }, ctx: z.RefinementCtx): void {
  if (b.cost_reservation != null && b.max_cost == null) {
    ctx.addIssue({ code: "custom", path: ["cost_reservation"], message: "needs max_cost: it reserves against the budget" });
  }
}

/** A batch's settings alone (other keys are left out of the output): what createBatch checks its input with. */
export const batchOptionsSchema = z.object(batchOptionsShape).superRefine(checkTogether);
export type BatchOptionsInput = z.input<typeof batchOptionsSchema>;

const { name, ...settings } = batchOptionsShape;
export const createBatchSchema = z
  .strictObject({
    flow: z.string().min(1).describe("registered flow name (GET /api/flows)"),
    name,
    parameters: z.record(z.string(), json).nullish().describe("the flow's parameters (validated against its schema)"),
    dataset: z.string().min(1).nullish().describe("dataset id or name; with neither dataset nor records, the flow's default dataset"),
    records: z.array(json).nullish().describe("inline records: objects with an id in record_id_field, or plain strings"),
    record_id_field: z.string().min(1).max(200).nullish(),
    ...settings,
  })
  .refine((b) => !(b.records && b.dataset), { path: ["records"], message: "give records or dataset, not both" })
  .superRefine(checkTogether);
export type CreateBatchBody = z.input<typeof createBatchSchema>;

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
