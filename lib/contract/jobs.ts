// The jobs' and prompts' wire schemas: list queries, a job, its detail, its result line, a prompt and
// its answer. snake_case, as on the wire.
import { z } from "zod";
import { JOB_STATUSES, PROMPT_STATUSES } from "./statuses";
import { cursorParam, iso, json, limitParam, listOf, nullableIso, single } from "./wire";

export const listJobsQuery = z.object({
  status: listOf(JOB_STATUSES),
  q: single(z.string().max(200).optional()),
  sort: single(z.enum(["ordinal", "finished"]).default("ordinal")),
  cursor: cursorParam,
  limit: limitParam,
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

export const ResultLineSchema = z.object({
  record_id: z.string(),
  status: z.enum(JOB_STATUSES),
  result: json,
  error: JobErrorSchema.nullable(),
  cost: z.number(),
});
export type ResultLine = z.infer<typeof ResultLineSchema>;
