// The /batch wire schemas: a job queue API with job types, status words (queued, running, completed,
// failed, cancelled) and Unix-time timestamps of its own, over ordinary Batchboard batches.
import { z } from "zod";
import { fileOperationSchema } from "@/lib/flows/files";

export const JOB_STATUSES = ["queued", "running", "completed", "failed", "cancelled"] as const;
export type QueueJobStatus = (typeof JOB_STATUSES)[number];
export const JOB_TYPES = ["batch_agent_tasks", "batch_validation", "batch_tests", "batch_mcp_operations"] as const;
export type QueueJobType = (typeof JOB_TYPES)[number];

/** Items one job may hold: the inline-records limit applies below it too. */
export const MAX_ITEMS = 10_000;

const last = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (Array.isArray(v) ? v[v.length - 1] : v), schema);
const parallel = z.number().int().min(1).max(100).default(5).describe("items run at once (the batch's concurrency)");
const target = z.strictObject({
  id: z.string().min(1).max(512).describe("the item's id, unique in the job"),
  path: z.string().min(1).max(4096).describe("relative to the workspace; `..`, absolute paths and links leading out are refused"),
});

// a task carries its id and description; other keys (a previous job's result item resubmitted as it
// came, with its status and output) are dropped
const agentTask = z.object({
  id: z.string().min(1).max(512).describe("the task's id, unique in the job"),
  description: z.string().min(1).max(100_000).describe("what the coder model is asked to do"),
});

export const submitAgentTasksSchema = z
  .strictObject({
    tasks: z.array(agentTask).min(1).max(MAX_ITEMS),
    chunk_size: z.number().int().min(1).max(MAX_ITEMS).optional().describe("recorded in the job's metadata only: each task is its own call (the agent flow does not chunk), parallel at a time"),
    parallel,
    check_command: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe("run in each task's directory after every change; exit 0 passes (needs command execution enabled; 422 otherwise). Unset: no check"),
    max_loops: z.number().int().min(1).max(50).default(8).describe("coder, check and review rounds per task before it fails not_approved"),
    coder_model: z.string().min(1).max(200).default("qwen2.5-coder:7b").describe("routed like any model (BATCHBOARD_MODEL_ROUTES, else OPENAI_BASE_URL)"),
    reviewer_model: z.string().min(1).max(200).default("llama3.2"),
  })
  .superRefine((body, ctx) => {
    const seen = new Map<string, number>();
    body.tasks.forEach((t, i) => {
      const first = seen.get(t.id);
      if (first !== undefined) ctx.addIssue({ code: "custom", path: ["tasks", i, "id"], message: `duplicate task id ${JSON.stringify(t.id)} (first at tasks.${first}.id)` });
      else seen.set(t.id, i);
    });
  });

export type SubmitAgentTasks = z.output<typeof submitAgentTasksSchema>;

export const submitValidationSchema = z.strictObject({
  targets: z.array(target).min(1).max(MAX_ITEMS),
  check_command: z
    .string()
    .min(1)
    .max(4096)
    .default("pytest -q")
    .describe("run in the workspace per target with the target's path appended (or where {{record.path}} stands)"),
  parallel,
});

export const submitTestsSchema = z.strictObject({
  modules: z.array(target).min(1).max(MAX_ITEMS),
  test_command: z
    .string()
    .min(1)
    .max(4096)
    .default("pytest -v")
    .describe("run in the workspace per module with the module's path appended (or where {{record.path}} stands)"),
  parallel,
});

export const submitOperationsSchema = z.strictObject({
  operations: z.array(fileOperationSchema).min(1).max(MAX_ITEMS),
  parallel,
});

export const jobIdParams = z.object({ id: z.string().min(1).max(200) });

export const listJobsQuery = z.object({
  status: last(z.enum(JOB_STATUSES).optional()),
  job_type: last(z.string().min(1).max(100).optional()),
  limit: last(z.coerce.number().int().min(1).max(1000).default(100)) as unknown as z.ZodDefault<z.ZodNumber>,
  offset: last(z.coerce.number().int().min(0).default(0)) as unknown as z.ZodDefault<z.ZodNumber>,
});

const seconds = z.number().describe("Unix time in seconds");

export const JobProgressSchema = z.object({
  total: z.number().int(),
  processed: z.number().int(),
  successful: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
  percentage: z.number(),
  elapsed_seconds: z.number(),
  items_per_second: z.number(),
  estimated_remaining_seconds: z.number().nullable(),
  current_item: z.string().nullable(),
});

export const QueueJobSchema = z.object({
  job_id: z.string().describe("the Batchboard batch id"),
  job_type: z.enum(JOB_TYPES),
  status: z.enum(JOB_STATUSES),
  progress: z.number().describe("percent of the items processed"),
  result: z
    .object({
      summary: z.object({ total: z.number().int(), successful: z.number().int(), failed: z.number().int(), skipped: z.number().int() }),
      results: z
        .array(z.record(z.string(), z.unknown()))
        .optional()
        .describe("per item, in submission order: the item, its status, its output and error (not in lists)"),
      elapsed_seconds: z.number(),
    })
    .nullable()
    .describe("once the job has finished"),
  error: z.string().nullable(),
  created_at: seconds,
  started_at: seconds.nullable(),
  completed_at: seconds.nullable(),
  metadata: z.record(z.string(), z.unknown()).describe("what was submitted (item counts, the command) and `progress`"),
});
export type QueueJob = z.output<typeof QueueJobSchema>;

export const QueueJobListSchema = z.object({ jobs: z.array(QueueJobSchema), total: z.number().int() });
export const CancelledQueueJobSchema = z.object({ status: z.literal("cancelled"), job_id: z.string() });
export const QueueStatsSchema = z.object({
  stats: z.object({
    total: z.number().int(),
    queued: z.number().int(),
    running: z.number().int(),
    completed: z.number().int(),
    failed: z.number().int(),
    cancelled: z.number().int(),
  }),
});
