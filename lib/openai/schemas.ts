// The /v1 wire schemas: requests validated as OpenAI validates them, responses as its reference
// documents them (the OpenAPI document at /api/openapi.json is generated from these).
import { z } from "zod";
import { BATCH_OPTION_RANGES } from "@/lib/contract/batch-options";
import { OPENAI_ENDPOINTS } from "@/lib/flows/openai";

const last = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (Array.isArray(v) ? v[v.length - 1] : v), schema);
const limit = (max: number, fallback: number) =>
  last(z.coerce.number().int().min(1).max(max).default(fallback)).describe(`1 to ${max}, default ${fallback}`) as unknown as z.ZodDefault<z.ZodNumber>;

export const fileIdParams = z.object({ id: z.string().min(1).max(200) });
export const batchIdParams = z.object({ id: z.string().min(1).max(200) });

export const listFilesQuery = z.object({
  purpose: last(z.string().max(64).optional()),
  limit: limit(10_000, 10_000),
  order: last(z.enum(["asc", "desc"]).default("desc")),
  after: last(z.string().min(1).max(200).optional()).describe("a file id: the page starts after it"),
});

export const listBatchesQuery = z.object({
  after: last(z.string().min(1).max(200).optional()).describe("a batch id: the page starts after it"),
  limit: limit(100, 20),
});

/** OpenAI's Metadata: up to 16 pairs, keys up to 64 characters, string values up to 512. */
export const metadataSchema = z
  .record(z.string().max(64, "metadata keys are at most 64 characters"), z.string().max(512, "metadata values are strings of at most 512 characters"))
  .refine((m) => Object.keys(m).length <= 16, "metadata holds at most 16 key-value pairs");

/** Batchboard's own options for a /v1 batch (an extension: OpenAI's SDKs send it as an extra body field). */
export const batchOptionsSchema = z.strictObject({
  concurrency: BATCH_OPTION_RANGES.concurrency.optional().describe("requests in flight at once (default 16)"),
  max_retries: BATCH_OPTION_RANGES.max_retries.optional().describe("retries of a 429/5xx/network failure (default 5)"),
  retry_backoff_ms: BATCH_OPTION_RANGES.retry_backoff_ms.optional().describe("base of the exponential backoff (default 1000); Retry-After wins"),
  // the openai flow's own per-request timeout (its parameter), not the batch's timeout_ms
  timeout_ms: z.number().int().min(1).max(3_600_000).optional().describe("per request (default 600000)"),
  max_cost: BATCH_OPTION_RANGES.max_cost.optional().describe("stop the batch once its cost reaches this"),
  priority: BATCH_OPTION_RANGES.priority.optional(),
});

export const createBatchRequestSchema = z.strictObject({
  input_file_id: z.string().min(1).max(200),
  endpoint: z.enum(OPENAI_ENDPOINTS, { error: `endpoint must be one of ${OPENAI_ENDPOINTS.join(", ")}` }),
  completion_window: z.literal("24h", { error: "completion_window must be 24h" }),
  metadata: metadataSchema.nullable().optional(),
  output_expires_after: z
    .strictObject({ anchor: z.literal("created_at"), seconds: z.number().int().min(3600).max(2_592_000) })
    .optional()
    .describe("accepted for compatibility; output and error files live as long as their batch"),
  batchboard: batchOptionsSchema.optional(),
});
export type CreateBatchRequest = z.output<typeof createBatchRequestSchema>;

const unixTime = z.number().int();
const nullableTime = unixTime.nullable();

export const BatchErrorSchema = z.object({ code: z.string(), message: z.string(), param: z.string().nullable(), line: z.number().int().nullable() });

export const BatchObjectSchema = z.object({
  id: z.string(),
  object: z.literal("batch"),
  endpoint: z.string(),
  model: z.string().optional(),
  errors: z.object({ object: z.literal("list"), data: z.array(BatchErrorSchema) }).nullable(),
  input_file_id: z.string(),
  completion_window: z.string(),
  status: z.enum(["validating", "failed", "in_progress", "finalizing", "completed", "expired", "cancelling", "cancelled"]),
  output_file_id: z.string().nullable(),
  error_file_id: z.string().nullable(),
  created_at: unixTime,
  in_progress_at: nullableTime,
  expires_at: unixTime,
  finalizing_at: nullableTime,
  completed_at: nullableTime,
  failed_at: nullableTime,
  expired_at: nullableTime,
  cancelling_at: nullableTime,
  cancelled_at: nullableTime,
  request_counts: z.object({ total: z.number().int(), completed: z.number().int(), failed: z.number().int() }),
  usage: z
    .object({
      input_tokens: z.number().int(),
      input_tokens_details: z.object({ cached_tokens: z.number().int() }),
      output_tokens: z.number().int(),
      output_tokens_details: z.object({ reasoning_tokens: z.number().int() }),
      total_tokens: z.number().int(),
    })
    .optional(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
});

export const FileObjectSchema = z.object({
  id: z.string(),
  object: z.literal("file"),
  bytes: z.number().int(),
  created_at: unixTime,
  expires_at: nullableTime,
  filename: z.string(),
  purpose: z.string(),
  status: z.literal("processed"),
  status_details: z.null(),
});

export const DeletedFileSchema = z.object({ id: z.string(), object: z.literal("file"), deleted: z.literal(true) });

export const listOf = (item: z.ZodType) =>
  z.object({ object: z.literal("list"), data: z.array(item), first_id: z.string().nullable(), last_id: z.string().nullable(), has_more: z.boolean() });

export const V1ErrorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ path: z.string().optional(), message: z.string() }).loose()),
    type: z.string().describe("OpenAI's error type: invalid_request_error, authentication_error, permission_error, rate_limit_error, server_error"),
    param: z.string().nullable().describe("the parameter at fault, as OpenAI names it"),
  }),
});
