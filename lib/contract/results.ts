// A job's result as the engine streams it and the dataset exports write it: declared here so the
// export formats (lib/datasets) need not import the engine.
import type { JobStatus } from "./statuses";

export interface JobError {
  code: string;
  message: string;
  retryable: boolean;
}

export interface ResultRow {
  recordId: string;
  position: number;
  status: JobStatus;
  result: unknown;
  error: JobError | null;
  cost: number;
  /** the record's data (the OpenAI output format echoes custom_id only; csv may include it) */
  record?: unknown;
}
