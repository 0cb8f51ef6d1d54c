// The /api/batch wire schemas: an embedding job API with job ids, status words and progress fields of
// its own, over ordinary Batchboard batches (the OpenAPI document is generated from these).
import { z } from "zod";

/** More documents than this in one job is a 400, as clients of this API expect. */
export const MAX_DOCUMENTS = 10_000;
/** A finished embedding job is kept this long, then deleted by the retention sweep. */
export const EMBED_JOB_TTL_SECONDS = 3600;

export const JOB_STATUSES = ["pending", "running", "completed", "failed", "cancelled"] as const;
export type EmbedJobStatus = (typeof JOB_STATUSES)[number];

const last = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (Array.isArray(v) ? v[v.length - 1] : v), schema);
const iso = z.iso.datetime({ offset: true });

export const submitEmbedSchema = z.strictObject({
  model: z.string().min(1).max(200).describe("the embedding model; it picks the upstream (BATCHBOARD_MODEL_ROUTES, else OPENAI_BASE_URL)"),
  documents: z
    .array(z.string())
    .min(1, "give at least one document")
    .describe(`the texts to embed, one embedding each, in this order (at most ${MAX_DOCUMENTS}: more is a 400)`),
  metadata: z.record(z.string(), z.unknown()).nullish().describe("kept with the job and returned with it, together with the model"),
});
export type SubmitEmbedRequest = z.output<typeof submitEmbedSchema>;

export const jobIdParams = z.object({ id: z.string().min(1).max(200) });

export const listJobsQuery = z.object({
  limit: last(z.coerce.number().int().min(1).max(1000).default(100)).describe("1 to 1000, default 100") as unknown as z.ZodDefault<z.ZodNumber>,
});

export const SubmittedJobSchema = z.object({
  job_id: z.string().describe("the Batchboard batch id: the job is an ordinary batch of the embed flow"),
  status: z.enum(JOB_STATUSES),
  total_items: z.number().int(),
  message: z.string(),
});

export const EmbedJobSchema = z.object({
  job_id: z.string(),
  job_type: z.literal("embed"),
  status: z.enum(JOB_STATUSES).describe("pending: not started; running; completed (some items may have failed); failed; cancelled"),
  created_at: iso,
  started_at: iso.nullable(),
  completed_at: iso.nullable(),
  expires_at: iso.nullable().describe("when a finished job is deleted (one hour after it finished)"),
  progress: z.object({
    total_items: z.number().int(),
    completed_items: z.number().int(),
    failed_items: z.number().int(),
    percent: z.number().describe("(completed + failed) / total * 100"),
  }),
  duration_seconds: z.number().nullable().describe("from start to finish (so far, while running)"),
  metadata: z.record(z.string(), z.unknown()).describe("the metadata given, with the model"),
  errors: z.array(z.string()).describe("why a failed job stopped"),
});
export type EmbedJob = z.output<typeof EmbedJobSchema>;

export const EmbedJobListSchema = z.object({ jobs: z.array(EmbedJobSchema), total: z.number().int().describe("jobs not yet expired") });

export const EmbedResultsSchema = z.object({
  job_id: z.string(),
  status: z.enum(JOB_STATUSES),
  results: z
    .array(z.object({ index: z.number().int(), embedding: z.array(z.number()) }).nullable())
    .describe("one entry per document, in document order; null for a document without an embedding (failed, cancelled, not run yet)"),
  errors: z.array(z.object({ index: z.number().int(), code: z.string(), message: z.string() })).describe("the documents that failed, in document order"),
  total_items: z.number().int(),
  completed_items: z.number().int(),
  failed_items: z.number().int(),
});

export const CancelledJobSchema = z.object({ job_id: z.string(), cancelled: z.literal(true), message: z.string() });

// the stats are also part of GET /api/stats (the dashboard's), so they are declared with the contract
export { EmbedJobStatsSchema, type EmbedJobStats } from "@/lib/contract/system";
