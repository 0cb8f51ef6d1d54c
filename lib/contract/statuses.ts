// The statuses of batches, jobs and prompts: declared once here, and used by the engine, the API's
// schemas, the dashboard and the CLI. No imports, so the browser bundle can take it as it is.
// prisma/schema.prisma declares the same values as PostgreSQL enums (test/schema-drift.test.ts).

export const BATCH_STATUSES = ["pending", "running", "paused", "completed", "failed", "cancelled"] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];
/** a batch that can still run: cancel and pause apply, its dataset cannot be deleted */
export const ACTIVE_BATCH_STATUSES = ["pending", "running", "paused"] as const satisfies readonly BatchStatus[];
export const TERMINAL_BATCH_STATUSES = ["completed", "failed", "cancelled"] as const satisfies readonly BatchStatus[];

export const JOB_STATUSES = ["pending", "running", "waiting_input", "waiting_provider", "succeeded", "failed", "cancelled", "skipped"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
/** jobs a cancel or a retry can still act on */
export const OPEN_JOB_STATUSES = ["pending", "running", "waiting_input", "waiting_provider"] as const satisfies readonly JobStatus[];
/** jobs that ended: they run again only when retried */
export const FINISHED_JOB_STATUSES = ["succeeded", "failed", "cancelled", "skipped"] as const satisfies readonly JobStatus[];
export const isFinishedJob = (status: JobStatus): boolean => (FINISHED_JOB_STATUSES as readonly JobStatus[]).includes(status);

export const PROMPT_STATUSES = ["open", "answered", "expired", "cancelled"] as const;
export type PromptStatus = (typeof PROMPT_STATUSES)[number];

export const isActiveBatch = (status: BatchStatus | undefined): boolean =>
  !!status && (ACTIVE_BATCH_STATUSES as readonly BatchStatus[]).includes(status);
export const isTerminalBatch = (status: BatchStatus): boolean => (TERMINAL_BATCH_STATUSES as readonly BatchStatus[]).includes(status);
