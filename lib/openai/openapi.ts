// The /v1 routes in the OpenAPI document (/api/openapi.json), from the same zod schemas they validate with.
import { z } from "zod";
import { OPENAI_ENDPOINTS } from "@/lib/flows/openai";
import * as S from "./schemas";

type JsonSchema = Record<string, unknown>;

const COMPONENTS: [string, z.ZodType, "input" | "output"][] = [
  ["V1Error", S.V1ErrorBodySchema, "output"],
  ["V1Batch", S.BatchObjectSchema, "output"],
  ["V1File", S.FileObjectSchema, "output"],
  ["V1CreateBatchRequest", S.createBatchRequestSchema, "input"],
];

function toSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const out = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as JsonSchema;
  delete out.$schema;
  return out;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const list = (item: string): JsonSchema => ({
  type: "object",
  required: ["object", "data", "first_id", "last_id", "has_more"],
  properties: { object: { const: "list" }, data: { type: "array", items: ref(item) }, first_id: { type: ["string", "null"] }, last_id: { type: ["string", "null"] }, has_more: { type: "boolean" } },
});
const jsonContent = (schema: JsonSchema) => ({ "application/json": { schema } });

function parameters(where: "path" | "query", obj: z.ZodObject | undefined): JsonSchema[] {
  if (!obj) return [];
  const json = toSchema(obj, "output") as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return { name, in: where, required: where === "path", ...(description ? { description } : {}), schema: rest };
  });
}

interface V1Operation {
  method: "get" | "post" | "delete";
  path: string;
  summary: string;
  scope: "read" | "write";
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: JsonSchema;
  ok: { description: string; content: JsonSchema };
}

const id = S.fileIdParams;
const OPERATIONS: V1Operation[] = [
  { method: "post", path: "/v1/files", summary: "Upload a Batch input file (OpenAI-compatible; streamed into a dataset)", scope: "write",
    body: { required: true, content: { "multipart/form-data": { schema: { type: "object", required: ["file", "purpose"], properties: {
      file: { type: "string", contentMediaType: "application/octet-stream", description: "JSONL, one {custom_id, method, url, body} per line" },
      purpose: { const: "batch" },
      "expires_after[anchor]": { const: "created_at" },
      "expires_after[seconds]": { type: "integer", minimum: 3600, maximum: 2592000 } } } } } },
    ok: { description: "the file", content: jsonContent(ref("V1File")) } },
  { method: "get", path: "/v1/files", summary: "List files, newest first (OpenAI-compatible)", scope: "read", query: S.listFilesQuery,
    ok: { description: "a page of files", content: jsonContent(list("V1File")) } },
  { method: "get", path: "/v1/files/{id}", summary: "Retrieve a file (OpenAI-compatible)", scope: "read", params: id,
    ok: { description: "the file", content: jsonContent(ref("V1File")) } },
  { method: "delete", path: "/v1/files/{id}", summary: "Delete a file; an input file goes with its dataset (409 while a running batch reads it)", scope: "write",
    params: id, ok: { description: "deleted", content: jsonContent(toSchema(S.DeletedFileSchema, "output")) } },
  { method: "get", path: "/v1/files/{id}/content", summary: "A file's content, streamed: an input file's requests, or a batch's output or error lines", scope: "read",
    params: id, ok: { description: "JSONL", content: { "application/octet-stream": { schema: { type: "string" } } } } },
  { method: "post", path: "/v1/batches", summary: `Create a batch from an input file (OpenAI-compatible; endpoints ${OPENAI_ENDPOINTS.join(", ")})`, scope: "write",
    body: { required: true, content: jsonContent(ref("V1CreateBatchRequest")) }, ok: { description: "the batch", content: jsonContent(ref("V1Batch")) } },
  { method: "get", path: "/v1/batches", summary: "List batches created through /v1, newest first (OpenAI-compatible)", scope: "read", query: S.listBatchesQuery,
    ok: { description: "a page of batches", content: jsonContent(list("V1Batch")) } },
  { method: "get", path: "/v1/batches/{id}", summary: "Retrieve a batch (OpenAI-compatible)", scope: "read", params: S.batchIdParams,
    ok: { description: "the batch", content: jsonContent(ref("V1Batch")) } },
  { method: "post", path: "/v1/batches/{id}/cancel", summary: "Cancel a batch: cancelling until its files are counted, then cancelled", scope: "write",
    params: S.batchIdParams, ok: { description: "the batch", content: jsonContent(ref("V1Batch")) } },
];

/** The /v1 paths and the component schemas they reference, to merge into the API's document. */
export function v1OpenApi(): { paths: Record<string, Record<string, JsonSchema>>; schemas: Record<string, JsonSchema> } {
  const error = { description: "the error body: ours and OpenAI's fields in one", content: jsonContent(ref("V1Error")) };
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of OPERATIONS) {
    (paths[op.path] ??= {})[op.method] = {
      operationId: `v1${op.method}${op.path.replace(/[^a-zA-Z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
      summary: op.summary,
      tags: ["OpenAI-compatible"],
      "x-scope": op.scope,
      parameters: [...parameters("path", op.params), ...parameters("query", op.query)],
      ...(op.body ? { requestBody: op.body } : {}),
      responses: { "200": op.ok, "4XX": error, "500": error },
    };
  }
  return { paths, schemas: Object.fromEntries(COMPONENTS.map(([name, schema, io]) => [name, toSchema(schema, io)])) };
}

export const V1_OPERATIONS = OPERATIONS.map((o) => ({ method: o.method.toUpperCase(), path: o.path, summary: o.summary, scope: o.scope }));
