// OpenAI's File and Batch objects, as its API reference documents them, from our rows. A /v1 batch's
// status is derived from the batch underneath and from whether its output and error files have been
// counted for the batch's latest completion (the sweep does that: OpenAI's `finalizing`).
import { randomBytes } from "node:crypto";
import type { LineProblem } from "./input-file";

export interface FileRow {
  id: string;
  kind: "input" | "output" | "error";
  purpose: string;
  filename: string;
  bytes: number | string;
  created_at: Date;
  expires_at: Date | null;
  dataset_id: string | null;
  batch_id: string | null;
  line_count: number;
  problems: LineProblem[];
  problem_count: number;
  line_breaks: [number, number][];
}

export interface BatchJoinRow {
  // the batch
  id: string;
  status: "pending" | "running" | "paused" | "completed" | "failed" | "cancelled";
  stop_reason: string | null;
  total: number;
  succeeded: number;
  failed: number;
  metadata: Record<string, unknown> | null;
  created_at: Date;
  completed_at: Date | null;
  // openai_batches
  input_file_id: string;
  endpoint: string;
  completion_window: string;
  expires_at: Date;
  model: string | null;
  errors: LineProblem[] | null;
  output_file_id: string | null;
  error_file_id: string | null;
  finalized_at: Date | null;
  finalized_for: Date | null;
  usage: BatchUsage | null;
}

export interface BatchUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export type BatchStatus = "validating" | "failed" | "in_progress" | "finalizing" | "completed" | "expired" | "cancelling" | "cancelled";

export interface BatchObject {
  id: string;
  object: "batch";
  endpoint: string;
  model?: string;
  errors: { object: "list"; data: LineProblem[] } | null;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  usage?: BatchUsage;
  metadata: Record<string, unknown> | null;
}

export interface FileObject {
  id: string;
  object: "file";
  bytes: number;
  created_at: number;
  expires_at: number | null;
  filename: string;
  purpose: string;
  /** deprecated by OpenAI, still required in its schema */
  status: "processed";
  status_details: null;
}

export const newFileId = () => `file-${randomBytes(12).toString("hex")}`;

/** Unix seconds, as every OpenAI timestamp. */
export const unix = (d: Date | null | undefined): number | null => (d ? Math.floor(d.getTime() / 1000) : null);

export function toFileObject(f: FileRow): FileObject {
  return {
    id: f.id,
    object: "file",
    bytes: Number(f.bytes),
    created_at: unix(f.created_at)!,
    expires_at: unix(f.expires_at),
    filename: f.filename,
    purpose: f.purpose,
    status: "processed",
    status_details: null,
  };
}

const STOPPED: Record<string, string> = {
  error_policy: "The batch stopped at its first failed request (error_policy stop).",
  error_threshold: "The batch stopped: its failure rate passed its error threshold.",
  budget_exhausted: "The batch stopped: its cost reached max_cost.",
};

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

/** Counted for the batch's latest completion: a retried batch must be counted again. */
export function isFinalized(b: Pick<BatchJoinRow, "status" | "completed_at" | "finalized_for">): boolean {
  return TERMINAL.has(b.status) && !!b.completed_at && !!b.finalized_for && b.finalized_for.getTime() === b.completed_at.getTime();
}

export function toBatchObject(b: BatchJoinRow): BatchObject {
  const finalized = isFinalized(b);
  const terminal = TERMINAL.has(b.status);
  const validationFailed = b.errors !== null;
  const expired = b.status === "cancelled" && b.stop_reason === "expired";
  const cancelled = b.status === "cancelled" && !expired;
  let status: BatchStatus;
  if (validationFailed) status = "failed";
  else if (!terminal) status = "in_progress";
  else if (cancelled) status = finalized ? "cancelled" : "cancelling";
  else if (!finalized) status = "finalizing";
  else status = expired ? "expired" : b.status === "failed" ? "failed" : "completed";

  let errors: BatchObject["errors"] = null;
  if (validationFailed) errors = { object: "list", data: b.errors! };
  else if (b.status === "failed" && b.stop_reason) {
    const message = STOPPED[b.stop_reason] ?? `The batch stopped: ${b.stop_reason}.`;
    errors = { object: "list", data: [{ code: b.stop_reason, message, param: null, line: null }] };
  }
  const done = terminal && finalized;
  const metadata = b.metadata && Object.keys(b.metadata).length ? b.metadata : null;
  return {
    id: b.id,
    object: "batch",
    endpoint: b.endpoint,
    ...(b.model ? { model: b.model } : {}),
    errors,
    input_file_id: b.input_file_id,
    completion_window: b.completion_window,
    status,
    output_file_id: done ? b.output_file_id : null,
    error_file_id: done ? b.error_file_id : null,
    created_at: unix(b.created_at)!,
    in_progress_at: validationFailed ? null : unix(b.created_at),
    expires_at: unix(b.expires_at)!,
    finalizing_at: terminal && !cancelled && !validationFailed ? unix(b.completed_at) : null,
    completed_at: done && status === "completed" ? unix(b.finalized_at) : null,
    failed_at: validationFailed ? unix(b.created_at) : done && status === "failed" ? unix(b.finalized_at) : null,
    expired_at: expired ? unix(b.completed_at) : null,
    cancelling_at: cancelled ? unix(b.completed_at) : null,
    cancelled_at: cancelled && finalized ? unix(b.finalized_at) : null,
    request_counts: { total: b.total, completed: b.succeeded, failed: b.failed },
    ...(done && b.usage ? { usage: b.usage } : {}),
    metadata,
  };
}
