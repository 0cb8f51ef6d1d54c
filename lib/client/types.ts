// The REST wire types (snake_case, as sent by /api). Type-only imports from the API's zod schemas
// keep one source of truth without bundling any server code into the dashboard.
import type { z } from "zod";
import type * as C from "@/lib/contract/compare";
import type * as S from "@/lib/contract/schemas";

export type Batch = z.infer<typeof S.BatchSchema>;
export type BatchStatus = Batch["status"];
export type BatchOptions = Batch["options"];
export type BatchProgress = Batch["progress"];
export type Job = z.infer<typeof S.JobSchema>;
export type JobStatus = Job["status"];
export type JobError = z.infer<typeof S.JobErrorSchema>;
export type JobDetail = z.infer<typeof S.JobDetailSchema>;
export type JobLog = JobDetail["logs"][number];
export type Prompt = z.infer<typeof S.PromptSchema>;
export type PromptStatus = Prompt["status"];
export type PromptInput = Prompt["input"];
export type Metrics = z.infer<typeof S.MetricsSchema>;
export type MetricsPoint = Metrics["series"][number];
export type ProviderBatch = z.infer<typeof S.ProviderBatchSchema>;
export type BatchSummary = z.infer<typeof S.BatchSummarySchema>;
export type Dataset = z.infer<typeof S.DatasetSchema>;
export type DatasetRecord = z.infer<typeof S.DatasetRecordSchema>;
export type Stats = z.infer<typeof S.StatsSchema>;
export type Worker = z.infer<typeof S.WorkerSchema>;
export type BulkJobsBody = z.input<typeof S.bulkJobsSchema>;
export type BulkJobsResponse = z.infer<typeof S.BulkJobsResponseSchema>;
export type CompareSummary = z.infer<typeof C.CompareSummarySchema>;
export type ComparedRecord = z.infer<typeof C.ComparedRecordSchema>;
/** The body of POST /api/batches. */
export type CreateBatchBody = S.CreateBatchBody;
/** The answer to POST /api/batches: the batch, and warnings about what it will do. */
export type CreatedBatch = z.infer<typeof S.CreatedBatchSchema>;
/** A flow as listed; its parameters schema read as JSON Schema. */
export type Flow = Omit<z.infer<typeof S.FlowSchema>, "parameters_schema"> & { parameters_schema: JsonSchema };

export { BATCH_STATUSES, JOB_STATUSES, isActiveBatch } from "@/lib/contract/statuses";

export interface ErrorDetail {
  path?: string;
  message: string;
  /** some errors say more (a refused answer: status, answered_by, answered_at, answer) */
  [key: string]: unknown;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: ErrorDetail[] };
}

export interface ListResponse<T> {
  items: T[];
  next_cursor: string | null;
  total: number;
}

/** A JSON Schema node, as much of it as the generated form reads. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  title?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  format?: string;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
}
