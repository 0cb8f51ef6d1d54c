// The engine's public types: what lib/api (and the worker) get from lib/engine. camelCase inside;
// lib/api maps these to the snake_case wire format in one place. A batch has no type here: it is its
// row, the Prisma model (lib/engine/map.ts BatchRead), created from the wire's own input
// (lib/engine/create-batch.ts CreateBatchInput).
import type { PromptInput } from "@/lib/flows/types";
import type { Worker } from "@/lib/generated/prisma/client";

import type { Page } from "@/lib/contract/pages";
import type { JobError, ResultRow } from "@/lib/contract/results";
import type { BatchStatus, JobStatus, PromptStatus } from "@/lib/contract/statuses";

export type { BatchStatus, JobError, JobStatus, Page, PromptStatus, ResultRow };
export type StopReason = "error_policy" | "error_threshold" | "budget_exhausted" | "cancelled";

/** The numbers behind a stop, kept when it happened (batches.stop_detail). */
export type StopDetail =
  | { reason: "error_threshold"; failed: number; finished: number; rate: number; threshold: number; minFinished: number }
  | { reason: "error_policy"; failed: number; recordId: string | null; error: { code: string; message: string } | null }
  | { reason: "budget_exhausted"; spent: number; maxCost: number }
  | { reason: "cancelled"; processed: number; total: number };


/** Some of a dataset's records: those of another batch's jobs in some statuses, and/or these record ids. */
export interface RecordSelection {
  batchId?: string;
  statuses?: JobStatus[];
  recordIds?: string[];
}

/** Where a batch's records come from. */
export type BatchSource =
  | { kind: "dataset"; dataset: string; only?: RecordSelection } // id or name
  | { kind: "records"; records: unknown[]; recordIdField: string }
  | { kind: "flow_default" };

export interface LogLine {
  at: string;
  level: "info" | "warn" | "error";
  message: string;
}

export interface Job {
  batchId: string;
  recordId: string;
  ordinal: number;
  position: number;
  status: JobStatus;
  /** the flow's attempts */
  attempts: number;
  /** runs lost to a crash (the worker's lease lapsed), not counted in attempts */
  interruptions: number;
  cost: number;
  /** the batch whose result this job reused (options.cache); null when the flow ran */
  cachedFrom: string | null;
  error: JobError | null;
  runAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  durationMs: number | null;
  /** the start of the result's JSON, on one line (null without a result) */
  resultPreview: string | null;
}

export interface Prompt {
  id: string;
  batchId: string;
  recordId: string;
  key: string;
  question: string;
  input: PromptInput;
  defaultValue: unknown;
  status: PromptStatus;
  answer: unknown;
  answeredBy: string | null;
  createdAt: Date;
  answeredAt: Date | null;
  expiresAt: Date | null;
  /** the record's data, so the Inbox can show it beside the question */
  record?: unknown;
}

/** One run of the flow on a job that ended (a released, parked or crashed run is not one). */
export interface JobAttempt {
  attempt: number;
  /** retried: failed, and run again */
  outcome: "succeeded" | "failed" | "retried";
  startedAt: Date | null;
  finishedAt: Date;
  durationMs: number | null;
  cost: number;
  error: { code: string; message: string } | null;
}

export interface JobDetail extends Job {
  record: unknown;
  result: unknown;
  logs: LogLine[];
  prompts: Prompt[];
  attemptHistory: JobAttempt[];
}

export interface MetricsPoint {
  t: Date;
  succeeded: number;
  failed: number;
  cost: number;
  cumulativeCost: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

/** A worker as the dashboard lists it: its row, counters as numbers, and whether its heartbeat is recent. */
export type WorkerInfo = Pick<Worker, "id" | "host" | "pid" | "mode" | "concurrency" | "startedAt" | "heartbeatAt" | "running"> & {
  processed: number;
  failed: number;
  alive: boolean;
};

/** Since the first job of a flow ran, never going down (GET /api/metrics). */
export interface FlowCounters {
  flow: string;
  /** jobs that reached each final status (a record retried by hand and finishing again counts again) */
  finished: { succeeded: number; failed: number; cancelled: number; skipped: number };
  attempts: number;
  interruptions: number;
  cost: number;
  /** durations of the finished jobs: counts per bucket of lib/engine/metrics.ts, and their sum */
  durationHist: number[];
  durationSumMs: number;
}

export interface Stats {
  jobs: Record<JobStatus, number>;
  batches: Record<BatchStatus, number> & { active: number };
  queueDepth: number;
  workers: { live: number };
  openPrompts: number;
  throughput: { last1m: number; last5m: number; last60m: number };
  series: { t: Date; succeeded: number; failed: number }[];
}

/** What the engine publishes (PostgreSQL NOTIFY on channel "batchboard"), fanned out to SSE clients. */
export type EngineEvent =
  | { type: "batch"; batchId: string; status: BatchStatus }
  | { type: "prompts"; batchId: string };
