// Sign-in, the worker's run, the dashboard's stats and the workers: wire schemas. snake_case, as on the wire.
import { z } from "zod";
import { BATCH_STATUSES, JOB_STATUSES } from "./statuses";
import { iso } from "./wire";

/** POST /api/auth/signin: an API key to exchange for a session cookie */
export const signInSchema = z.strictObject({ key: z.string().min(1).max(512) });

/** POST /api/worker/run: how long the worker runs, in milliseconds */
export const runWorkerSchema = z.object({ max_ms: z.number().int().min(100).max(280_000).default(25_000) }).strict();

/** The embedding jobs of /api/batch, as GET /api/stats and GET /api/batch/stats count them. */
export const EmbedJobStatsSchema = z.object({
  total_jobs_created: z.number().int().describe("every job ever submitted, expired ones included"),
  total_jobs_completed: z.number().int(),
  total_jobs_failed: z.number().int(),
  total_jobs_cancelled: z.number().int(),
  active_jobs: z.number().int().describe("running now"),
  pending_jobs: z.number().int().describe("submitted, not started"),
});
export type EmbedJobStats = z.output<typeof EmbedJobStatsSchema>;

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
