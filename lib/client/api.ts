// The typed client of /api, one for every caller: the dashboard (`api`, same origin) and the CLI
// (lib/cli/client.ts: a base URL and a token, through createApi). Each endpoint's path, method and body
// are written here once. Every call resolves with the parsed body or throws ApiError, whose `status` is
// 0 when the API could not be reached at all. Relative imports only: the CLI loads it under tsx from
// any directory.
import type {
  Batch,
  BulkJobsBody,
  BulkJobsResponse,
  ComparedRecord,
  CompareSummary,
  CreateBatchBody,
  CreatedBatch,
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
import type { BatchSort, SortOrder } from "../contract/batch-sort";
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

/**
 * How a request reaches the API: `path` is the API's (`/api/...`, with its query). It resolves with a
 * 2xx response, else throws ApiError (lib/client/http.ts send).
 */
export type Transport = (path: string, init: RequestInit) => Promise<Response>;

const UNREACHABLE = "The Batchboard API could not be reached.";
const unreachable = () => UNREACHABLE;

/** The dashboard's transport: same-origin fetch. */
const sameOrigin: Transport = (path, init) => send(path, init, unreachable);

/** A count typed on a command line goes as written (the API validates it); the dashboard passes numbers. */
type Count = number | string;

export interface BatchListInput {
  status?: string;
  flow?: string;
  q?: string;
  /** only the batches run again from this one */
  parent?: string;
  sort?: BatchSort;
  order?: SortOrder;
  limit?: Count;
}

/** The result fields a summary describes: distributions (group_by) and numeric statistics (stats); top: values listed per group_by field. */
export interface SummaryInput {
  group_by: string[];
  stats: string[];
  top?: Count;
  /** the summary chooses the fields where group_by / stats name none */
  auto?: boolean;
}

export interface JobListInput {
  status?: string;
  q?: string;
  sort?: "ordinal" | "finished";
  limit?: Count;
}

export interface PromptListInput {
  status?: string;
  batch_id?: string;
  limit?: Count;
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

/** A dataset sent as one request body (a file streamed by the CLI); the dashboard uploads with progress (uploadDataset). */
export interface DatasetBodyInput {
  name?: string;
  format: string;
  id_field?: string;
  description?: string;
  contentType: string;
  contentLength?: number;
}

const enc = encodeURIComponent;

/** The API's calls over one transport. */
export function createApi(transport: Transport) {
  /** A request with the API's JSON headers; a body given as a string is JSON. */
  const request = (path: string, init: RequestInit = {}) =>
    transport(path, {
      ...init,
      headers: { accept: "application/json", ...(typeof init.body === "string" ? { "content-type": "application/json" } : {}), ...(init.headers as Record<string, string>) },
    });

  const apiFetch = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const text = await (await request(path, init)).text();
    if (!text) return null as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      return null as T;
    }
  };

  const post = <T>(path: string, body?: unknown, headers?: Record<string, string>) =>
    apiFetch<T>(path, { method: "POST", body: body === undefined ? undefined : JSON.stringify(body), headers });

  return {
    apiFetch,

    listBatches: (input: BatchListInput, cursor?: string | null) =>
      apiFetch<ListResponse<Batch>>(withQuery("/api/batches", { ...input, cursor })),
    getBatch: (id: string) => apiFetch<Batch>(`/api/batches/${enc(id)}`),
    /** `idempotencyKey`: the same key again within a day answers with the batch it created */
    createBatch: (body: CreateBatchBody, opts: { idempotencyKey?: string } = {}) =>
      post<CreatedBatch>("/api/batches", body, opts.idempotencyKey ? { "idempotency-key": opts.idempotencyKey } : undefined),
    /** runs a batch again: the body's fields change the parent's, `records` picks which of its records run */
    cloneBatch: (id: string, body: Record<string, unknown>) => post<Batch>(`/api/batches/${enc(id)}/clone`, body),
    cancelBatch: (id: string) => post<Batch>(`/api/batches/${enc(id)}/cancel`),
    pauseBatch: (id: string) => post<Batch>(`/api/batches/${enc(id)}/pause`),
    resumeBatch: (id: string) => post<Batch>(`/api/batches/${enc(id)}/resume`),
    /** re-runs the batch's jobs in these statuses (none given: the API's default, failed) */
    retryBatch: (id: string, statuses?: string[]) =>
      post<{ batch: Batch; retried: number }>(`/api/batches/${enc(id)}/retry`, statuses ? { statuses } : {}),
    /** deletes a finished batch (DELETE /api/batches/{id} cancels, for existing clients) */
    deleteBatch: (id: string) => post<{ id: string; deleted: true; jobs_deleted: number }>(`/api/batches/${enc(id)}/delete`),
    bulkJobs: (id: string, body: BulkJobsBody) => post<BulkJobsResponse>(`/api/batches/${enc(id)}/bulk`, body),
    getMetrics: (id: string) => apiFetch<Metrics>(`/api/batches/${enc(id)}/metrics`),
    getProviderBatches: (id: string) => apiFetch<{ items: ProviderBatch[] }>(`/api/batches/${enc(id)}/provider-batches`),
    getSummary: (id: string, input: SummaryInput) =>
      apiFetch<BatchSummary>(
        withQuery(`/api/batches/${enc(id)}/summary`, { group_by: input.group_by.join(",") || undefined, stats: input.stats.join(",") || undefined, top: input.top, auto: input.auto ? "true" : undefined }),
      ),
    listJobs: (id: string, input: JobListInput, cursor?: string | null) =>
      apiFetch<ListResponse<Job>>(withQuery(`/api/batches/${enc(id)}/jobs`, { ...input, cursor })),
    getJob: (id: string, recordId: string) => apiFetch<JobDetail>(`/api/batches/${enc(id)}/jobs/${enc(recordId)}`),
    retryJob: (id: string, recordId: string) => post<JobDetail>(`/api/batches/${enc(id)}/jobs/${enc(recordId)}/retry`),
    cancelJob: (id: string, recordId: string) => post<JobDetail>(`/api/batches/${enc(id)}/jobs/${enc(recordId)}/cancel`),
    resultsUrl: (id: string, format: "jsonl" | "csv" | "openai" | "zip") => resultsPath(id, { format }),
    /** the results export as a streamed response (any content type: JSONL, CSV or a zip) */
    getResults: (id: string, input: { format: string; status?: string }) => request(resultsPath(id, input), { headers: { accept: "*/*" } }),

    listPrompts: (input: PromptListInput, cursor?: string | null) =>
      apiFetch<ListResponse<Prompt>>(withQuery("/api/prompts", { ...input, cursor })),
    getPrompt: (id: string) => apiFetch<Prompt>(`/api/prompts/${enc(id)}`),
    answerPrompt: (id: string, answer: unknown) => post<Prompt>(`/api/prompts/${enc(id)}/answer`, { answer }),

    listFlows: () => apiFetch<{ items: Flow[] }>("/api/flows"),

    /** a page of datasets: the dashboard's 100 a page, or `limit` as given (none: the API's default) */
    listDatasets: (cursor?: string | null, input: { limit?: Count } = { limit: 100 }) =>
      apiFetch<ListResponse<Dataset>>(withQuery("/api/datasets", { cursor, limit: input.limit })),
    getDataset: (id: string) => apiFetch<Dataset>(`/api/datasets/${enc(id)}`),
    listDatasetRecords: (id: string, cursor?: string | null) =>
      apiFetch<ListResponse<DatasetRecord>>(withQuery(`/api/datasets/${enc(id)}/records`, { cursor, limit: 50 })),
    deleteDataset: (id: string) => apiFetch<unknown>(`/api/datasets/${enc(id)}`, { method: "DELETE" }),
    /** uploads a dataset as the request body as it is (a stream goes half-duplex) */
    uploadDatasetBody: (body: BodyInit, input: DatasetBodyInput) =>
      apiFetch<Dataset>(datasetUploadPath(input), {
        method: "POST",
        body,
        headers: { "content-type": input.contentType, ...(input.contentLength !== undefined ? { "content-length": String(input.contentLength) } : {}) },
        ...(typeof body === "object" && "getReader" in body ? { duplex: "half" } : {}),
      } as RequestInit),

    compare: (input: CompareInput) => apiFetch<CompareSummary>(withQuery("/api/compare", { ...input })),
    compareRecords: (input: CompareInput & CompareFilterInput, cursor?: string | null) =>
      apiFetch<ListResponse<ComparedRecord>>(withQuery("/api/compare/records", { ...input, cursor, limit: 50 })),
    compareExportUrl: (input: CompareInput & CompareFilterInput, format: "jsonl" | "csv") =>
      withQuery("/api/compare/records", { ...input, format }),

    getStats: () => apiFetch<Stats>("/api/stats"),
    listWorkers: () => apiFetch<{ items: Worker[] }>("/api/workers"),
  };
}

export type Api = ReturnType<typeof createApi>;

const resultsPath = (id: string, input: { format: string; status?: string }) => withQuery(`/api/batches/${enc(id)}/results`, input);

const datasetUploadPath = (input: { name?: string; format: string; id_field?: string; description?: string }) =>
  withQuery("/api/datasets", { name: input.name, format: input.format, id_field: input.id_field, description: input.description });

/** The dashboard's client: same origin. */
export const api = createApi(sameOrigin);

/** A same-origin request for the few calls outside `api` (session, keys). */
export const apiFetch = api.apiFetch;

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
  return sendUpload(datasetUploadPath({ name: opts.name, format: opts.format, id_field: opts.idField }), file, UPLOAD_CONTENT_TYPES[opts.format], onProgress, signal);
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
  return sendUpload(datasetUploadPath({ name: opts.name, format: "files" }), form, null, onProgress, signal);
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
