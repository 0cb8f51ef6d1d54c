// The typed fetch client for /api. Every call resolves with the parsed body or throws ApiError,
// whose `status` is 0 when the API could not be reached at all.
import type {
  Batch,
  BulkJobsBody,
  BulkJobsResponse,
  ComparedRecord,
  CompareSummary,
  CreateBatchBody,
  Dataset,
  DatasetRecord,
  Flow,
  Job,
  JobDetail,
  ListResponse,
  Metrics,
  ProviderBatch,
  BatchSummary,
  Prompt,
  Stats,
  Worker,
} from "./types";
import { ApiError, errorFromBody, send } from "./http";

export { ApiError };

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}

type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

const UNREACHABLE = "The Batchboard API could not be reached.";
const unreachable = () => UNREACHABLE;

export async function apiFetch<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = { accept: "application/json", ...(init.body ? { "content-type": "application/json" } : {}), ...init.headers };
  const text = await (await send(path, { ...init, headers }, unreachable)).text();
  if (!text) return null as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null as T;
  }
}

const post = <T>(path: string, body?: unknown) =>
  apiFetch<T>(path, { method: "POST", body: body === undefined ? undefined : JSON.stringify(body) });
import type { BatchSort, SortOrder } from "@/lib/contract/batch-sort";

const enc = encodeURIComponent;

export interface BatchListInput {
  status?: string;
  flow?: string;
  q?: string;
  /** only the batches run again from this one */
  parent?: string;
  sort?: BatchSort;
  order?: SortOrder;
  limit?: number;
}

/** The result fields a summary describes: distributions (group_by) and numeric statistics (stats). */
export interface SummaryInput {
  group_by: string[];
  stats: string[];
}

export interface JobListInput {
  status?: string;
  q?: string;
  sort?: "ordinal" | "finished";
  limit?: number;
}

export interface CompareInput {
  a: string;
  b: string;
  field: string;
}

export interface CompareFilterInput {
  /** comma-separated verdicts */
  verdict?: string;
  /** a matrix cell: JSON text of the A and B values */
  a_value?: string;
  b_value?: string;
}

export const api = {
  listBatches: (input: BatchListInput, cursor?: string | null) =>
    apiFetch<ListResponse<Batch>>(withQuery("/api/batches", { ...input, cursor })),
  getBatch: (id: string) => apiFetch<Batch>(`/api/batches/${enc(id)}`),
  createBatch: (body: CreateBatchBody) => post<Batch>("/api/batches", body),
  /** runs a batch again: the body's fields change the parent's, `records` picks which of its records run */
  cloneBatch: (id: string, body: Record<string, unknown>) => post<Batch>(`/api/batches/${enc(id)}/clone`, body),
  cancelBatch: (id: string) => post<Batch>(`/api/batches/${enc(id)}/cancel`),
  pauseBatch: (id: string) => post<Batch>(`/api/batches/${enc(id)}/pause`),
  resumeBatch: (id: string) => post<Batch>(`/api/batches/${enc(id)}/resume`),
  retryBatch: (id: string, statuses: string[] = ["failed"]) =>
    post<{ batch: Batch; retried: number }>(`/api/batches/${enc(id)}/retry`, { statuses }),
  /** deletes a finished batch (DELETE /api/batches/{id} cancels, for existing clients) */
  deleteBatch: (id: string) => post<{ id: string; deleted: true; jobs_deleted: number }>(`/api/batches/${enc(id)}/delete`),
  bulkJobs: (id: string, body: BulkJobsBody) => post<BulkJobsResponse>(`/api/batches/${enc(id)}/bulk`, body),
  getMetrics: (id: string) => apiFetch<Metrics>(`/api/batches/${enc(id)}/metrics`),
  getProviderBatches: (id: string) => apiFetch<{ items: ProviderBatch[] }>(`/api/batches/${enc(id)}/provider-batches`),
  getSummary: (id: string, input: SummaryInput) =>
    apiFetch<BatchSummary>(withQuery(`/api/batches/${enc(id)}/summary`, { group_by: input.group_by.join(",") || undefined, stats: input.stats.join(",") || undefined })),
  listJobs: (id: string, input: JobListInput, cursor?: string | null) =>
    apiFetch<ListResponse<Job>>(withQuery(`/api/batches/${enc(id)}/jobs`, { ...input, cursor })),
  getJob: (id: string, recordId: string) => apiFetch<JobDetail>(`/api/batches/${enc(id)}/jobs/${enc(recordId)}`),
  retryJob: (id: string, recordId: string) => post<JobDetail>(`/api/batches/${enc(id)}/jobs/${enc(recordId)}/retry`),
  cancelJob: (id: string, recordId: string) => post<JobDetail>(`/api/batches/${enc(id)}/jobs/${enc(recordId)}/cancel`),
  resultsUrl: (id: string, format: "jsonl" | "csv" | "openai" | "zip") => `/api/batches/${enc(id)}/results?format=${format}`,

  listPrompts: (input: { status?: string; batch_id?: string; limit?: number }, cursor?: string | null) =>
    apiFetch<ListResponse<Prompt>>(withQuery("/api/prompts", { ...input, cursor })),
  getPrompt: (id: string) => apiFetch<Prompt>(`/api/prompts/${enc(id)}`),
  answerPrompt: (id: string, answer: unknown) => post<Prompt>(`/api/prompts/${enc(id)}/answer`, { answer }),

  listFlows: () => apiFetch<{ items: Flow[] }>("/api/flows"),

  listDatasets: (cursor?: string | null) =>
    apiFetch<ListResponse<Dataset>>(withQuery("/api/datasets", { cursor, limit: 100 })),
  getDataset: (id: string) => apiFetch<Dataset>(`/api/datasets/${enc(id)}`),
  listDatasetRecords: (id: string, cursor?: string | null) =>
    apiFetch<ListResponse<DatasetRecord>>(withQuery(`/api/datasets/${enc(id)}/records`, { cursor, limit: 50 })),
  deleteDataset: (id: string) => apiFetch<unknown>(`/api/datasets/${enc(id)}`, { method: "DELETE" }),

  compare: (input: CompareInput) => apiFetch<CompareSummary>(withQuery("/api/compare", { ...input })),
  compareRecords: (input: CompareInput & CompareFilterInput, cursor?: string | null) =>
    apiFetch<ListResponse<ComparedRecord>>(withQuery("/api/compare/records", { ...input, cursor, limit: 50 })),
  compareExportUrl: (input: CompareInput & CompareFilterInput, format: "jsonl" | "csv") =>
    withQuery("/api/compare/records", { ...input, format }),

  getStats: () => apiFetch<Stats>("/api/stats"),
  listWorkers: () => apiFetch<{ items: Worker[] }>("/api/workers"),
};

export type UploadFormat = "csv" | "jsonl" | "json";

export const UPLOAD_CONTENT_TYPES: Record<UploadFormat, string> = {
  csv: "text/csv",
  jsonl: "application/x-ndjson",
  json: "application/json",
};

export function guessUploadFormat(fileName: string): UploadFormat | null {
  const lower = fileName.toLowerCase();
  if (lower.endsWith(".csv")) return "csv";
  if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson")) return "jsonl";
  if (lower.endsWith(".json")) return "json";
  return null;
}

/**
 * Uploads a file as the raw request body. XMLHttpRequest rather than fetch because only XHR reports
 * upload progress.
 */
export function uploadDataset(
  file: Blob,
  opts: { name: string; format: UploadFormat; idField?: string },
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<Dataset> {
  const url = withQuery("/api/datasets", { name: opts.name, format: opts.format, id_field: opts.idField });
  return sendUpload(url, file, UPLOAD_CONTENT_TYPES[opts.format], onProgress, signal);
}

/** A file of a folder or a selection, with its path inside the upload (its record id). */
export interface UploadFile {
  file: File;
  path: string;
}

/** Many files as one dataset of files: one multipart request, each file named by its path. */
export function uploadFiles(files: UploadFile[], opts: { name: string }, onProgress: (fraction: number) => void, signal?: AbortSignal): Promise<Dataset> {
  const form = new FormData();
  for (const f of files) form.append("files", f.file, f.path);
  return sendUpload(withQuery("/api/datasets", { name: opts.name, format: "files" }), form, null, onProgress, signal);
}

// XMLHttpRequest, not fetch: only it reports upload progress
function sendUpload(url: string, body: Blob | FormData, contentType: string | null, onProgress: (fraction: number) => void, signal?: AbortSignal): Promise<Dataset> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    // FormData sets its own multipart content type with the boundary
    if (contentType) xhr.setRequestHeader("content-type", contentType);
    xhr.setRequestHeader("accept", "application/json");
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(JSON.parse(xhr.responseText) as Dataset);
      } else {
        reject(errorFromBody(xhr.status, xhr.statusText, xhr.responseText));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, "unreachable", UNREACHABLE));
    xhr.onabort = () => reject(new DOMException("upload aborted", "AbortError"));
    signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(body);
  });
}
