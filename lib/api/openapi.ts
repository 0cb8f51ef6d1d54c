// The OpenAPI 3.1 document, generated from the same zod schemas the routes validate with. Every
// route under app/api is listed here (e2e/api/openapi.spec.ts walks app/api to hold us to it).
import "server-only";
import { z } from "zod";
import type { RouteScope } from "./auth";
import { EMBED_JOB_OPERATIONS } from "@/lib/embed-jobs/openapi";
import { JOB_QUEUE_OPERATIONS } from "@/lib/job-queue/openapi";
import { v1OpenApi } from "@/lib/openai/openapi";
import { cloneBatchSchema } from "./clone";
import * as C from "./compare-schemas";
import * as S from "./schemas";

type JsonSchema = Record<string, unknown>;

export interface Operation {
  method: "get" | "post" | "delete";
  path: string;
  summary: string;
  /** the route's scope; "public" routes need no credentials */
  scope: RouteScope | "public";
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: { schema: z.ZodType } | { content: Record<string, { schema: JsonSchema }>; description: string };
  ok: { status: number; description: string; schema?: z.ZodType | JsonSchema; contentType?: string };
  headers?: { name: string; description: string }[];
}

/** Response schemas published under components.schemas and referenced by name. */
const COMPONENTS: [string, z.ZodType][] = [
  ["Error", S.ErrorBodySchema],
  ["Batch", S.BatchSchema],
  ["CreatedBatch", S.CreatedBatchSchema],
  ["PromptConflictDetail", S.PromptConflictDetailSchema],
  ["Job", S.JobSchema],
  ["JobDetail", S.JobDetailSchema],
  ["Prompt", S.PromptSchema],
  ["Dataset", S.DatasetSchema],
  ["DatasetRecord", S.DatasetRecordSchema],
  ["Flow", S.FlowSchema],
  ["Metrics", S.MetricsSchema],
  ["BatchSummary", S.BatchSummarySchema],
  ["Stats", S.StatsSchema],
  ["Worker", S.WorkerSchema],
  ["ResultLine", S.ResultLineSchema],
  ["CreateBatchRequest", S.createBatchSchema],
  ["RetryBatchRequest", S.retryBatchSchema],
  ["AnswerPromptRequest", S.answerPromptSchema],
  ["CreateDatasetRequest", S.createDatasetSchema],
];
const REQUEST_COMPONENTS = new Set(["CreateBatchRequest", "RetryBatchRequest", "AnswerPromptRequest", "CreateDatasetRequest"]);

function toSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const out = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as JsonSchema;
  delete out.$schema;
  return out;
}

function ref(schema: z.ZodType | JsonSchema): JsonSchema {
  const named = COMPONENTS.find(([, s]) => s === schema);
  if (named) return { $ref: `#/components/schemas/${named[0]}` };
  return schema instanceof z.ZodType ? toSchema(schema, "output") : schema;
}

const list = (item: z.ZodType): JsonSchema => ({
  type: "object",
  required: ["items", "next_cursor", "total"],
  properties: { items: { type: "array", items: ref(item) }, next_cursor: { type: ["string", "null"] }, total: { type: "integer" } },
});

const sse = (events: string): JsonSchema => ({ type: "string", description: `text/event-stream; events: ${events}` });
const idParam = S.idParams;
const job = S.jobParams;

const OPERATIONS: Operation[] = [
  { method: "post", path: "/api/batches", summary: "Create a batch: a flow, its parameters, a source and the run options", scope: "write",
    body: { schema: S.createBatchSchema }, ok: { status: 201, description: "the new batch, with warnings", schema: S.CreatedBatchSchema },
    headers: [{ name: "Idempotency-Key", description: "same key and body replays the original response; another body is a 409" }] },
  { method: "get", path: "/api/batches", summary: "List batches, newest first", scope: "read", query: S.listBatchesQuery,
    ok: { status: 200, description: "a page of batches", schema: list(S.BatchSchema) } },
  { method: "get", path: "/api/batches/{id}", summary: "One batch with progress, cost and timing", scope: "read", params: idParam,
    ok: { status: 200, description: "the batch", schema: S.BatchSchema } },
  { method: "delete", path: "/api/batches/{id}", summary: "Cancel a batch (409 when already finished)", scope: "write", params: idParam,
    ok: { status: 200, description: "the cancelled batch", schema: S.BatchSchema } },
  ...(["cancel", "pause", "resume"] as const).map(
    (a): Operation => ({ method: "post", path: `/api/batches/{id}/${a}`, summary: `${a[0]!.toUpperCase()}${a.slice(1)} a batch (409 when finished)`,
      scope: "write", params: idParam, ok: { status: 200, description: "the batch", schema: S.BatchSchema } }),
  ),
  { method: "post", path: "/api/batches/{id}/retry", summary: "Re-queue jobs in the given statuses (default failed)", scope: "write",
    params: idParam, body: { schema: S.retryBatchSchema },
    ok: { status: 200, description: "the batch and how many jobs were re-queued", schema: S.RetryBatchResponseSchema } },
  { method: "post", path: "/api/batches/{id}/clone", summary: "Run the batch again (all records, the failed or cancelled ones, or listed ids) with changed parameters or options; the new batch records its parent",
    scope: "write", params: idParam, body: { schema: cloneBatchSchema }, ok: { status: 201, description: "the new batch", schema: S.CreatedBatchSchema } },
  { method: "get", path: "/api/batches/{id}/jobs", summary: "A batch's jobs, filtered and sorted", scope: "read", params: idParam,
    query: S.listJobsQuery, ok: { status: 200, description: "a page of jobs", schema: list(S.JobSchema) } },
  { method: "get", path: "/api/batches/{id}/jobs/{recordId}", summary: "One job: record, result, error, logs, prompts", scope: "read",
    params: job, ok: { status: 200, description: "the job", schema: S.JobDetailSchema } },
  { method: "post", path: "/api/batches/{id}/jobs/{recordId}/retry", summary: "Run one job again", scope: "write", params: job,
    ok: { status: 200, description: "the job", schema: S.JobDetailSchema } },
  { method: "post", path: "/api/batches/{id}/jobs/{recordId}/cancel", summary: "Cancel one job", scope: "write", params: job,
    ok: { status: 200, description: "the job", schema: S.JobDetailSchema } },
  { method: "get", path: "/api/batches/{id}/results", summary: "Results in source order, streamed (jsonl, csv, OpenAI batch output, or a zip of processed/, raw/ and summary.json)",
    scope: "read", params: idParam, query: S.resultsQuery,
    ok: { status: 200, description: "one line per record; jsonl lines are ResultLine", contentType: "application/x-ndjson", schema: S.ResultLineSchema } },
  { method: "get", path: "/api/batches/{id}/metrics", summary: "Throughput, p50/p95 duration and cost per bucket", scope: "read",
    params: idParam, query: S.metricsQuery, ok: { status: 200, description: "the series", schema: S.MetricsSchema } },
  { method: "get", path: "/api/batches/{id}/summary", summary: "Counts, retries, cost and duration statistics, and chosen result fields' distributions (group_by) and numeric statistics (stats); 422 for a field no result has or one of mixed types",
    scope: "read", params: idParam, query: S.summaryQuery, ok: { status: 200, description: "the summary", schema: S.BatchSummarySchema } },
  { method: "get", path: "/api/batches/{id}/events", summary: "Server-Sent Events: `batch` on every change, `end` when finished",
    scope: "read", params: idParam, ok: { status: 200, description: "an event stream", contentType: "text/event-stream", schema: sse("batch (Batch), end ({status})") } },
  { method: "get", path: "/api/events", summary: "Server-Sent Events for every batch and the open-prompt count", scope: "read",
    ok: { status: 200, description: "an event stream", contentType: "text/event-stream", schema: sse("batch (Batch), prompts ({open})") } },
  { method: "get", path: "/api/prompts", summary: "Prompts, oldest first", scope: "read", query: S.listPromptsQuery,
    ok: { status: 200, description: "a page of prompts", schema: list(S.PromptSchema) } },
  { method: "get", path: "/api/prompts/{id}", summary: "One prompt", scope: "read", params: idParam,
    ok: { status: 200, description: "the prompt", schema: S.PromptSchema } },
  { method: "post", path: "/api/prompts/{id}/answer", summary: "Answer a prompt (422 invalid answer; 409 no longer open, its details a PromptConflictDetail: who answered, when, the answer kept)", scope: "write",
    params: idParam, body: { schema: S.answerPromptSchema }, ok: { status: 200, description: "the answered prompt", schema: S.PromptSchema } },
  { method: "get", path: "/api/flows", summary: "Registered flows with their parameters as JSON Schema", scope: "read",
    ok: { status: 200, description: "the flows", schema: { type: "object", properties: { items: { type: "array", items: ref(S.FlowSchema) } } } } },
  { method: "post", path: "/api/datasets", summary: "Create a dataset from JSON records, an uploaded CSV / JSONL / JSON file, or files (one record per file)", scope: "write",
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
  { method: "get", path: "/api/datasets", summary: "Datasets, newest first", scope: "read", query: S.pageQuery,
    ok: { status: 200, description: "a page of datasets", schema: list(S.DatasetSchema) } },
  { method: "get", path: "/api/datasets/{id}", summary: "One dataset, by id or name", scope: "read", params: idParam,
    ok: { status: 200, description: "the dataset", schema: S.DatasetSchema } },
  { method: "delete", path: "/api/datasets/{id}", summary: "Delete a dataset (409 while an unfinished batch uses it)", scope: "write",
    params: idParam, ok: { status: 204, description: "deleted" } },
  { method: "get", path: "/api/datasets/{id}/records", summary: "A dataset's records in source order", scope: "read", params: idParam,
    query: S.pageQuery, ok: { status: 200, description: "a page of records", schema: list(S.DatasetRecordSchema) } },
  { method: "get", path: "/api/datasets/{id}/file", summary: "One file of a dataset of files, streamed as uploaded", scope: "read", params: idParam,
    query: z.object({ record_id: z.string().describe("the file's record id (its path in the upload)") }),
    ok: { status: 200, description: "the file's bytes, with its content type", contentType: "application/octet-stream", schema: { type: "string" } } },
  { method: "get", path: "/api/compare", summary: "Two batches compared on a result field: verdict totals, agreement, confusion matrix, number differences, cost and time",
    scope: "read", query: C.compareQuery, ok: { status: 200, description: "the comparison", schema: C.CompareSummarySchema } },
  { method: "get", path: "/api/compare/records", summary: "The compared records by record id: a page, or all of them as jsonl or csv",
    scope: "read", query: C.compareRecordsQuery, ok: { status: 200, description: "a page of compared records", schema: list(C.ComparedRecordSchema) } },
  { method: "get", path: "/api/stats", summary: "Totals by status, queue depth, live workers, throughput", scope: "read",
    ok: { status: 200, description: "the stats", schema: S.StatsSchema } },
  { method: "get", path: "/api/metrics", summary: "Prometheus text exposition", scope: "read",
    ok: { status: 200, description: "metrics", contentType: "text/plain", schema: { type: "string" } } },
  { method: "get", path: "/api/workers", summary: "Worker processes with heartbeat and counters", scope: "read",
    ok: { status: 200, description: "the workers", schema: { type: "object", properties: { items: { type: "array", items: ref(S.WorkerSchema) } } } } },
  { method: "post", path: "/api/worker/run", summary: "Run the worker once (cron-driven deployments; needs BATCHBOARD_WORKER_SECRET)", scope: "public",
    ok: { status: 200, description: "what the run did", schema: { type: "object" } } },
  { method: "get", path: "/api/health", summary: "Liveness: the database answers (503 when not)", scope: "public",
    ok: { status: 200, description: "healthy", schema: { type: "object", properties: { status: { type: "string" }, database: { type: "string" }, migration: { type: ["string", "null"] } } } } },
  { method: "post", path: "/api/auth/signin", summary: "Exchange an API key for a dashboard session cookie", scope: "public",
    body: { description: "the API key", content: { "application/json": { schema: { type: "object", properties: { key: { type: "string" } }, required: ["key"] } } } },
    ok: { status: 200, description: "signed in; Set-Cookie carries the session", schema: { type: "object" } } },
  { method: "post", path: "/api/auth/signout", summary: "Clear the dashboard session cookie", scope: "public",
    ok: { status: 200, description: "signed out", schema: { type: "object", properties: { signed_out: { type: "boolean" } } } } },
  { method: "get", path: "/api/auth/session", summary: "Who the caller is, and whether authentication is on", scope: "read",
    ok: { status: 200, description: "the caller: the key's name (\"admin token\" for the operator token), its scopes and how it came", schema: { type: "object", properties: { auth: { enum: ["on", "off"] }, name: { type: "string" }, scopes: { type: "array", items: { enum: ["read", "write", "admin"] } }, via: { enum: ["bearer", "session", "none"] } }, required: ["auth", "name", "scopes", "via"] } } },
  { method: "get", path: "/api/auth/one-time", summary: "The first-start sign-in link: sets the session cookie once, then redirects", scope: "public",
    query: z.object({ token: z.string().min(1).max(256) }), ok: { status: 302, description: "redirect to the dashboard" } },
  { method: "get", path: "/api/keys", summary: "API keys (never the secrets), newest first", scope: "admin",
    ok: { status: 200, description: "the keys", schema: { type: "object", properties: { items: { type: "array", items: { type: "object" } } } } } },
  { method: "post", path: "/api/keys", summary: "Create an API key; the response is the only time the key is shown", scope: "admin",
    body: { description: "name and scopes", content: { "application/json": { schema: { type: "object", properties: { name: { type: "string" }, scopes: { type: "array", items: { enum: ["read", "write", "admin"] } } } } } } },
    ok: { status: 201, description: "the key, once", schema: { type: "object" } } },
  { method: "delete", path: "/api/keys/{id}", summary: "Revoke an API key", scope: "admin", params: idParam,
    ok: { status: 200, description: "revoked", schema: { type: "object" } } },
  { method: "get", path: "/api/openapi.json", summary: "This document", scope: "read",
    ok: { status: 200, description: "OpenAPI 3.1", schema: { type: "object" } } },
  ...EMBED_JOB_OPERATIONS,
  ...JOB_QUEUE_OPERATIONS,
];

function parametersOf(op: Operation): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [where, obj] of [["path", op.params], ["query", op.query]] as const) {
    if (!obj) continue;
    const json = toSchema(obj, "output") as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, schema] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = schema;
      out.push({
        name,
        in: where,
        required: where === "path" || ((json.required ?? []).includes(name) && !("default" in schema)),
        ...(description ? { description } : {}),
        schema: rest,
        ...(rest.type === "array" ? { style: "form", explode: true } : {}),
      });
    }
  }
  for (const h of op.headers ?? []) out.push({ name: h.name, in: "header", required: false, description: h.description, schema: { type: "string" } });
  return out;
}

let cached: JsonSchema | undefined;

export function openApiDocument(): JsonSchema {
  if (cached) return cached;
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const errorResponse = { description: "the error body", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
  for (const op of OPERATIONS) {
    const ok: JsonSchema = { description: op.ok.description };
    if (op.ok.schema) ok.content = { [op.ok.contentType ?? "application/json"]: { schema: ref(op.ok.schema) } };
    const operation: JsonSchema = {
      operationId: `${op.method}${op.path.replace(/[^a-zA-Z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
      summary: op.summary,
      "x-scope": op.scope,
      ...(op.scope === "public" ? { security: [] } : {}),
      parameters: parametersOf(op),
      responses: { [String(op.ok.status)]: ok, "4XX": errorResponse, "500": errorResponse },
    };
    if (op.body) {
      operation.requestBody =
        "schema" in op.body
          ? { required: op.method === "post" && op.path === "/api/batches", content: { "application/json": { schema: ref(op.body.schema) } } }
          : { required: true, description: op.body.description, content: op.body.content };
    }
    (paths[op.path] ??= {})[op.method] = operation;
  }
  const v1 = v1OpenApi(); // the OpenAI-compatible Batch API under /v1
  Object.assign(paths, v1.paths);
  const schemas = {
    ...Object.fromEntries(COMPONENTS.map(([name, s]) => [name, toSchema(s, REQUEST_COMPONENTS.has(name) ? "input" : "output")])),
    ...v1.schemas,
  };
  cached = {
    openapi: "3.1.0",
    info: {
      title: "Batchboard API",
      version: "1",
      description:
        "Run one flow over every record of a dataset. JSON is snake_case; every error is { error: { code, message, details } }. Lists are { items, next_cursor, total } with ?limit=&cursor=. Under /v1, an OpenAI-compatible Batch API (files and batches) with OpenAI's objects; its errors carry OpenAI's type and param too.",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    paths,
    components: { schemas, securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "an API key" } } },
  };
  return cached;
}

export const API_OPERATIONS = OPERATIONS.map((o) => ({ method: o.method.toUpperCase(), path: o.path, summary: o.summary, scope: o.scope }));
