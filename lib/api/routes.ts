// The route registry: every API route once, keyed by its method and path, with the scope it needs,
// its summary, the zod schemas it validates with and answers in, and its body limit. It is the one
// declaration: a route file names its key (route("GET /api/batches/{id}", ...) in ./handler) and the
// wrapper enforces what the entry says, so no route file states a scope or a schema of its own.
// lib/api/openapi.ts renders the OpenAPI document from it, scripts/api-table.ts the route table of
// docs/api.md, and test/api/route-registry.test.ts walks app/**/route.ts against it: a route file
// without an entry, an entry without a route file, or a handler bound to another route's entry fails,
// and every entry is called to prove it enforces its scope.
import { z } from "zod";
import * as E from "@/lib/embed-jobs/schemas";
import { OPENAI_ENDPOINTS } from "@/lib/flows/openai";
import * as Q from "@/lib/job-queue/schemas";
import * as V1 from "@/lib/openai/schemas";
import { cloneBatchSchema } from "./clone";
import * as C from "./compare-schemas";
import { createKeySchema, keyIdParams } from "./keys";
import { items, list, ref, sse, v1List, type JsonSchema } from "./openapi-schemas";
import * as S from "@/lib/contract/schemas";
import type { Scope } from "@/lib/auth/keys";

/**
 * Who may call a route: an API key's scope, "public" (no credentials), or "secret" (only the bearer of
 * BATCHBOARD_WORKER_SECRET; the route does not exist without one).
 */
export type Access = Scope | "public" | "secret";

export type HttpMethod = "GET" | "POST" | "DELETE";

/** One registry entry: what the wrapper enforces (scope, params, query, a JSON body, its limit) and what OpenAPI says. */
export interface RouteEntry {
  summary: string;
  scope: Access;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** a zod schema: the wrapper reads the JSON body and validates it; content: the route reads the body itself (uploads) */
  body?: { schema: z.ZodType; required?: boolean } | { content: Record<string, { schema: JsonSchema }>; description: string };
  /** overrides BATCHBOARD_MAX_BODY_BYTES for this route's JSON body */
  maxBodyBytes?: number;
  /** where docs/ says more: a markdown link relative to docs/ (docs/api.md's route table shows it) */
  docs?: string;
  ok: { status: number; description: string; schema?: z.ZodType | JsonSchema; contentType?: string };
  headers?: { name: string; description: string }[];
}

export interface ApiOperation extends RouteEntry {
  method: "get" | "post" | "delete";
  /** OpenAPI form: /api/batches/{id} */
  path: string;
}

const idParam = S.idParams;
const job = S.jobParams;
const queueJob = { status: 200, description: "the job", schema: Q.QueueJobSchema };

const REGISTRY = {
  "POST /api/batches": { summary: "Create a batch: a flow, its parameters, a source and the run options", scope: "write",
    body: { schema: S.createBatchSchema, required: true }, ok: { status: 201, description: "the new batch, with warnings", schema: S.CreatedBatchSchema },
    headers: [{ name: "Idempotency-Key", description: "same key and body replays the original response; another body is a 409" }] },
  "GET /api/batches": { summary: "List batches, newest first or by sort and order (created, progress, cost, rate)", scope: "read", query: S.listBatchesQuery,
    ok: { status: 200, description: "a page of batches", schema: list(S.BatchSchema) } },
  "GET /api/batches/{id}": { summary: "One batch with progress, cost and timing", scope: "read", params: idParam,
    ok: { status: 200, description: "the batch", schema: S.BatchSchema } },
  "DELETE /api/batches/{id}": { summary: "Cancel a batch, as POST /api/batches/{id}/cancel does (409 when already finished). Kept for existing clients: it does not delete anything; POST /api/batches/{id}/delete does",
    scope: "write", params: idParam, ok: { status: 200, description: "the cancelled batch", schema: S.BatchSchema } },
  "POST /api/batches/{id}/delete": { docs: "[deleting](api.md#deleting)", summary: "Delete a finished batch with its jobs, attempts, prompts and results (409 while pending, running or paused: cancel it first). Batches run again from it keep working and keep its id as their parent",
    scope: "write", params: idParam, ok: { status: 200, description: "what was deleted", schema: S.DeletedBatchSchema } },
  "POST /api/batches/{id}/cancel": { summary: "Cancel a batch (409 when finished)", scope: "write", params: idParam,
    ok: { status: 200, description: "the batch", schema: S.BatchSchema } },
  "POST /api/batches/{id}/pause": { summary: "Pause a batch (409 when finished)", scope: "write", params: idParam,
    ok: { status: 200, description: "the batch", schema: S.BatchSchema } },
  "POST /api/batches/{id}/resume": { summary: "Resume a batch (409 when finished)", scope: "write", params: idParam,
    ok: { status: 200, description: "the batch", schema: S.BatchSchema } },
  "POST /api/batches/{id}/retry": { summary: "Re-queue jobs in the given statuses (default failed)", scope: "write",
    params: idParam, body: { schema: S.retryBatchSchema },
    ok: { status: 200, description: "the batch and how many jobs were re-queued", schema: S.RetryBatchResponseSchema } },
  "POST /api/batches/{id}/bulk": { docs: "[bulk actions](api.md#bulk-actions-on-jobs)", summary: "Retry or cancel many jobs: those a filter (status, q) shows or up to 1,000 record ids. Retry applies to failed and cancelled jobs, cancel to pending, waiting_input and waiting_provider ones; the others are counted as unchanged, so a repeat changes nothing",
    scope: "write", params: idParam, body: { schema: S.bulkJobsSchema }, ok: { status: 200, description: "how many jobs matched and changed", schema: S.BulkJobsResponseSchema } },
  "POST /api/batches/{id}/clone": { summary: "Run the batch again (all records, the failed or cancelled ones, or listed ids) with changed parameters or options; the new batch records its parent",
    scope: "write", params: idParam, body: { schema: cloneBatchSchema }, ok: { status: 201, description: "the new batch", schema: S.CreatedBatchSchema } },
  "GET /api/batches/{id}/jobs": { summary: "A batch's jobs, filtered and sorted", scope: "read", params: idParam,
    query: S.listJobsQuery, ok: { status: 200, description: "a page of jobs", schema: list(S.JobSchema) } },
  "GET /api/batches/{id}/jobs/{recordId}": { summary: "One job: record, result, error, logs, prompts", scope: "read",
    params: job, ok: { status: 200, description: "the job", schema: S.JobDetailSchema } },
  "POST /api/batches/{id}/jobs/{recordId}/retry": { summary: "Run one job again", scope: "write", params: job,
    ok: { status: 200, description: "the job", schema: S.JobDetailSchema } },
  "POST /api/batches/{id}/jobs/{recordId}/cancel": { summary: "Cancel one job", scope: "write", params: job,
    ok: { status: 200, description: "the job", schema: S.JobDetailSchema } },
  "GET /api/batches/{id}/results": { docs: "[exports](api.md#exports)", summary: "Results in source order, streamed (jsonl, csv, OpenAI batch output, or a zip of processed/, raw/ and summary.json)",
    scope: "read", params: idParam, query: S.resultsQuery,
    ok: { status: 200, description: "one line per record; jsonl lines are ResultLine", contentType: "application/x-ndjson", schema: S.ResultLineSchema } },
  "GET /api/batches/{id}/provider-batches": { summary: "The batch's records sent to a provider's batch tier (mode provider_batch), per provider batch",
    scope: "read", params: idParam, ok: { status: 200, description: "the provider batches, newest first", schema: items(S.ProviderBatchSchema) } },
  "GET /api/batches/{id}/metrics": { summary: "Throughput, p50/p95 duration and cost per bucket", scope: "read",
    params: idParam, query: S.metricsQuery, ok: { status: 200, description: "the series", schema: S.MetricsSchema } },
  "GET /api/batches/{id}/summary": { docs: "[results.md](results.md)", summary: "Counts, retries, cost and duration statistics, and chosen result fields' distributions (group_by) and numeric statistics (stats); 422 for a field no result has or one of mixed types",
    scope: "read", params: idParam, query: S.summaryQuery, ok: { status: 200, description: "the summary", schema: S.BatchSummarySchema } },
  "GET /api/batches/{id}/events": { summary: "Server-Sent Events: `batch` on every change, `end` when finished",
    scope: "read", params: idParam, ok: { status: 200, description: "an event stream", contentType: "text/event-stream", schema: sse("batch (Batch), end ({status})") } },
  "GET /api/events": { summary: "Server-Sent Events for every batch and the open-prompt count", scope: "read",
    ok: { status: 200, description: "an event stream", contentType: "text/event-stream", schema: sse("batch (Batch), prompts ({open})") } },
  "GET /api/prompts": { summary: "Prompts, oldest first", scope: "read", query: S.listPromptsQuery,
    ok: { status: 200, description: "a page of prompts", schema: list(S.PromptSchema) } },
  "GET /api/prompts/{id}": { summary: "One prompt", scope: "read", params: idParam,
    ok: { status: 200, description: "the prompt", schema: S.PromptSchema } },
  "POST /api/prompts/{id}/answer": { summary: "Answer a prompt (422 invalid answer; 409 no longer open, its details a PromptConflictDetail: who answered, when, the answer kept)", scope: "write",
    params: idParam, body: { schema: S.answerPromptSchema }, ok: { status: 200, description: "the answered prompt", schema: S.PromptSchema } },
  "GET /api/flows": { summary: "Registered flows with their parameters as JSON Schema", scope: "read",
    ok: { status: 200, description: "the flows", schema: items(S.FlowSchema) } },
  "POST /api/datasets": { summary: "Create a dataset from JSON records, an uploaded CSV / JSONL / JSON file, or files (one record per file)", scope: "write",
    query: S.uploadDatasetQuery,
    body: {
      description:
        "JSON {name, records}; multipart/form-data with a `file` field (one CSV / JSONL / JSON file: its rows), or with many files or a zip (format files: one record {id, filename, content_type, bytes, sha256} per file, its path the id); or a raw CSV / JSONL / JSON / zip body with ?name=&format=",
      content: {
        "application/json": { schema: ref(S.createDatasetSchema) },
        "multipart/form-data": { schema: { type: "object", properties: { file: { type: "string", contentMediaType: "application/octet-stream" }, name: { type: "string" }, format: { enum: [...S.UPLOAD_FORMATS] }, id_field: { type: "string" } }, required: ["file"] } },
        "text/csv": { schema: { type: "string" } },
        "application/x-ndjson": { schema: { type: "string" } },
        "application/zip": { schema: { type: "string", contentMediaType: "application/zip" } },
      },
    },
    ok: { status: 201, description: "the new dataset", schema: S.DatasetSchema } },
  "GET /api/datasets": { summary: "Datasets, newest first", scope: "read", query: S.pageQuery,
    ok: { status: 200, description: "a page of datasets", schema: list(S.DatasetSchema) } },
  "GET /api/datasets/{id}": { summary: "One dataset, by id or name", scope: "read", params: idParam,
    ok: { status: 200, description: "the dataset", schema: S.DatasetSchema } },
  "DELETE /api/datasets/{id}": { summary: "Delete a dataset (409 while an unfinished batch uses it)", scope: "write",
    params: idParam, ok: { status: 204, description: "deleted" } },
  "GET /api/datasets/{id}/records": { summary: "A dataset's records in source order", scope: "read", params: idParam,
    query: S.pageQuery, ok: { status: 200, description: "a page of records", schema: list(S.DatasetRecordSchema) } },
  "GET /api/datasets/{id}/file": { summary: "One file of a dataset of files, streamed as uploaded", scope: "read", params: idParam,
    query: z.object({ record_id: z.string().min(1).max(512).describe("the file's record id (its path in the upload)") }),
    ok: { status: 200, description: "the file's bytes, with its content type", contentType: "application/octet-stream", schema: { type: "string" } } },
  "GET /api/compare": { summary: "Two batches compared on a result field: verdict totals, agreement, confusion matrix, number differences, cost and time",
    scope: "read", query: C.compareQuery, ok: { status: 200, description: "the comparison", schema: C.CompareSummarySchema } },
  "GET /api/compare/records": { summary: "The compared records by record id: a page, or all of them as jsonl or csv",
    scope: "read", query: C.compareRecordsQuery, ok: { status: 200, description: "a page of compared records", schema: list(C.ComparedRecordSchema) } },
  "GET /api/stats": { summary: "Totals by status, queue depth, live workers, throughput", scope: "read",
    ok: { status: 200, description: "the stats", schema: S.StatsSchema } },
  "GET /api/metrics": { docs: "[monitoring](operations.md#monitoring)", summary: "Prometheus text exposition", scope: "read",
    ok: { status: 200, description: "metrics", contentType: "text/plain", schema: { type: "string" } } },
  "GET /api/workers": { summary: "Worker processes with heartbeat and counters", scope: "read",
    ok: { status: 200, description: "the workers", schema: items(S.WorkerSchema) } },
  "POST /api/worker/run": { docs: "[operations.md](operations.md#cron-driven-deployments)", summary: "Run the worker once (cron-driven deployments; needs BATCHBOARD_WORKER_SECRET)", scope: "secret",
    body: { schema: S.runWorkerSchema }, maxBodyBytes: 64 * 1024, ok: { status: 200, description: "what the run did", schema: { type: "object" } } },
  "GET /api/health": { summary: "Liveness: the database answers (503 when not)", scope: "public",
    ok: { status: 200, description: "healthy", schema: { type: "object", properties: { status: { type: "string" }, database: { type: "string" }, migration: { type: ["string", "null"] } } } } },
  "POST /api/auth/signin": { summary: "Exchange an API key for a dashboard session cookie", scope: "public",
    body: { schema: S.signInSchema, required: true },
    ok: { status: 200, description: "signed in; Set-Cookie carries the session", schema: { type: "object" } } },
  "POST /api/auth/signout": { summary: "Clear the dashboard session cookie", scope: "public",
    ok: { status: 200, description: "signed out", schema: { type: "object", properties: { signed_out: { type: "boolean" } } } } },
  "GET /api/auth/session": { summary: "Who the caller is, and whether authentication is on", scope: "read",
    ok: { status: 200, description: "the caller: the key's name (\"admin token\" for the operator token), its scopes and how it came", schema: { type: "object", properties: { auth: { enum: ["on", "off"] }, name: { type: "string" }, scopes: { type: "array", items: { enum: ["read", "write", "admin"] } }, via: { enum: ["bearer", "session", "none"] } }, required: ["auth", "name", "scopes", "via"] } } },
  "GET /api/auth/one-time": { summary: "The first-start sign-in link: sets the session cookie once, then redirects", scope: "public",
    query: z.object({ token: z.string().min(1).max(256) }), ok: { status: 302, description: "redirect to the dashboard" } },
  "GET /api/keys": { summary: "API keys (never the secrets), newest first", scope: "admin",
    ok: { status: 200, description: "the keys", schema: { type: "object", properties: { items: { type: "array", items: { type: "object" } } } } } },
  "POST /api/keys": { summary: "Create an API key; the response is the only time the key is shown", scope: "admin",
    body: { schema: createKeySchema, required: true },
    ok: { status: 201, description: "the key, once", schema: { type: "object" } } },
  "DELETE /api/keys/{id}": { summary: "Revoke an API key", scope: "admin", params: keyIdParams,
    ok: { status: 200, description: "revoked", schema: { type: "object" } } },
  "GET /api/openapi.json": { summary: "The OpenAPI 3.1 document of this API", scope: "read",
    ok: { status: 200, description: "OpenAPI 3.1", schema: { type: "object" } } },
  // embedding jobs under /api/batch
  "POST /api/batch/embed": { summary: `Submit an embedding job: one embed batch over the documents, in order (more than ${E.MAX_DOCUMENTS} documents: 400)`,
    scope: "write", body: { schema: E.submitEmbedSchema }, ok: { status: 200, description: "the job", schema: E.SubmittedJobSchema } },
  "GET /api/batch/jobs": { summary: "Embedding jobs not yet expired, newest first", scope: "read", query: E.listJobsQuery,
    ok: { status: 200, description: "the jobs", schema: E.EmbedJobListSchema } },
  "GET /api/batch/jobs/{id}": { summary: "One embedding job: status, progress, timing, metadata (404 once expired)", scope: "read",
    params: E.jobIdParams, ok: { status: 200, description: "the job", schema: E.EmbedJobSchema } },
  "DELETE /api/batch/jobs/{id}": { summary: "Cancel a pending or running embedding job (404 once it has finished)", scope: "write",
    params: E.jobIdParams, ok: { status: 200, description: "cancelled", schema: E.CancelledJobSchema } },
  "GET /api/batch/results/{id}": { summary: "An embedding job's embeddings in document order, its errors and counts", scope: "read",
    params: E.jobIdParams, ok: { status: 200, description: "the results", schema: E.EmbedResultsSchema } },
  // the job queue under /batch
  "POST /batch/agent-tasks": { summary: "Coding tasks, each in a directory of its own: a coder model changes files, a check command runs, a reviewer model approves (needs command execution enabled: the changes are written in the workspace and the check runs; 422 otherwise)",
    scope: "write", body: { schema: Q.submitAgentTasksSchema }, ok: queueJob },
  "POST /batch/validation": { summary: "Run a check command per target path in the workspace (needs command execution enabled; 422 otherwise)",
    scope: "write", body: { schema: Q.submitValidationSchema }, ok: queueJob },
  "POST /batch/tests": { summary: "Run a test command per module path in the workspace (needs command execution enabled; 422 otherwise)",
    scope: "write", body: { schema: Q.submitTestsSchema }, ok: queueJob },
  "POST /batch/mcp-operations": { summary: "Read, list, write files and run commands in the workspace (write and command need command execution enabled)",
    scope: "write", body: { schema: Q.submitOperationsSchema }, ok: queueJob },
  "GET /batch/jobs": { summary: "Jobs newest first, by status and job_type, with limit and offset", scope: "read", query: Q.listJobsQuery,
    ok: { status: 200, description: "the jobs", schema: Q.QueueJobListSchema } },
  "GET /batch/jobs/{id}": { summary: "One job: status, progress, each item's result once finished", scope: "read", params: Q.jobIdParams, ok: queueJob },
  "DELETE /batch/jobs/{id}": { summary: "Cancel a queued or running job (409 once finished)", scope: "write", params: Q.jobIdParams,
    ok: { status: 200, description: "cancelled", schema: Q.CancelledQueueJobSchema } },
  "GET /batch/stats": { summary: "The job queue's jobs by status", scope: "read", ok: { status: 200, description: "the counts", schema: Q.QueueStatsSchema } },
  // The OpenAI-compatible Batch API: OpenAI's objects, and errors that carry OpenAI's type and param too
  "POST /v1/files": { summary: "Upload a Batch input file (OpenAI-compatible; streamed into a dataset)", scope: "write",
    body: { description: "multipart/form-data: the JSONL file and purpose=batch", content: { "multipart/form-data": { schema: { type: "object", required: ["file", "purpose"], properties: {
      file: { type: "string", contentMediaType: "application/octet-stream", description: "JSONL, one {custom_id, method, url, body} per line" },
      purpose: { const: "batch" },
      "expires_after[anchor]": { const: "created_at" },
      "expires_after[seconds]": { type: "integer", minimum: 3600, maximum: 2592000 } } } } } },
    ok: { status: 200, description: "the file", schema: V1.FileObjectSchema } },
  "GET /v1/files": { summary: "List files, newest first (OpenAI-compatible)", scope: "read", query: V1.listFilesQuery,
    ok: { status: 200, description: "a page of files", schema: v1List(V1.FileObjectSchema) } },
  "GET /v1/files/{id}": { summary: "Retrieve a file (OpenAI-compatible)", scope: "read", params: V1.fileIdParams,
    ok: { status: 200, description: "the file", schema: V1.FileObjectSchema } },
  "DELETE /v1/files/{id}": { summary: "Delete a file; an input file goes with its dataset (409 while a running batch reads it)", scope: "write",
    params: V1.fileIdParams, ok: { status: 200, description: "deleted", schema: V1.DeletedFileSchema } },
  "GET /v1/files/{id}/content": { summary: "A file's content, streamed: an input file's requests, or a batch's output or error lines", scope: "read",
    params: V1.fileIdParams, ok: { status: 200, description: "JSONL", contentType: "application/octet-stream", schema: { type: "string" } } },
  "POST /v1/batches": { summary: `Create a batch from an input file (OpenAI-compatible; endpoints ${OPENAI_ENDPOINTS.join(", ")})`, scope: "write",
    body: { schema: V1.createBatchRequestSchema, required: true }, maxBodyBytes: 64 * 1024, ok: { status: 200, description: "the batch", schema: V1.BatchObjectSchema } },
  "GET /v1/batches": { summary: "List batches created through /v1, newest first (OpenAI-compatible)", scope: "read", query: V1.listBatchesQuery,
    ok: { status: 200, description: "a page of batches", schema: v1List(V1.BatchObjectSchema) } },
  "GET /v1/batches/{id}": { summary: "Retrieve a batch (OpenAI-compatible)", scope: "read", params: V1.batchIdParams,
    ok: { status: 200, description: "the batch", schema: V1.BatchObjectSchema } },
  "POST /v1/batches/{id}/cancel": { summary: "Cancel a batch: cancelling until its files are counted, then cancelled", scope: "write",
    params: V1.batchIdParams, ok: { status: 200, description: "the batch", schema: V1.BatchObjectSchema } },
} satisfies Record<`${HttpMethod} /${string}`, RouteEntry>;

/** "GET /api/batches/{id}": a route's method and path, its key in the registry. */
export type RouteKey = keyof typeof REGISTRY;
/** The entry of one route, with its schemas' own types (the wrapper's input types come from them). */
export type RouteEntryOf<K extends RouteKey> = (typeof REGISTRY)[K];

export function isRouteKey(key: string): key is RouteKey {
  return Object.hasOwn(REGISTRY, key);
}

/** The entry of `key`; throws for a key the registry does not have (a route file that names none). */
export function routeEntry<K extends RouteKey>(key: K): RouteEntryOf<K> {
  if (!isRouteKey(key)) throw new Error(`no route ${key} in lib/api/routes.ts`);
  return REGISTRY[key];
}

/** Every route, in registry order, with its method and path spelled out (OpenAPI, docs, tests). */
export const API_ROUTES: ApiOperation[] = Object.entries(REGISTRY).map(([key, entry]: [string, RouteEntry]) => {
  const [method, path] = key.split(" ") as [HttpMethod, string];
  return { method: method.toLowerCase() as ApiOperation["method"], path, ...entry };
});

