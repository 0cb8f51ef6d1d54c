// The zod -> JSON Schema side of the OpenAPI document: the named component schemas and the helpers
// the route registry (./routes) uses to describe lists, streams and references.
import { z } from "zod";
import * as V1 from "@/lib/openai/schemas";
import * as S from "@/lib/contract/schemas";

export type JsonSchema = Record<string, unknown>;

/** Schemas published under components.schemas and referenced by name; requests render their input side. */
export const COMPONENTS: [string, z.ZodType, "input" | "output"][] = [
  ["Error", S.ErrorBodySchema, "output"],
  ["Batch", S.BatchSchema, "output"],
  ["CreatedBatch", S.CreatedBatchSchema, "output"],
  ["PromptConflictDetail", S.PromptConflictDetailSchema, "output"],
  ["Job", S.JobSchema, "output"],
  ["JobDetail", S.JobDetailSchema, "output"],
  ["Prompt", S.PromptSchema, "output"],
  ["Dataset", S.DatasetSchema, "output"],
  ["DatasetRecord", S.DatasetRecordSchema, "output"],
  ["Flow", S.FlowSchema, "output"],
  ["Metrics", S.MetricsSchema, "output"],
  ["ProviderBatch", S.ProviderBatchSchema, "output"],
  ["BatchSummary", S.BatchSummarySchema, "output"],
  ["Stats", S.StatsSchema, "output"],
  ["Worker", S.WorkerSchema, "output"],
  ["ResultLine", S.ResultLineSchema, "output"],
  ["CreateBatchRequest", S.createBatchSchema, "input"],
  ["RetryBatchRequest", S.retryBatchSchema, "input"],
  ["AnswerPromptRequest", S.answerPromptSchema, "input"],
  ["CreateDatasetRequest", S.createDatasetSchema, "input"],
  ["V1Error", V1.V1ErrorBodySchema, "output"],
  ["V1Batch", V1.BatchObjectSchema, "output"],
  ["V1File", V1.FileObjectSchema, "output"],
  ["V1CreateBatchRequest", V1.createBatchRequestSchema, "input"],
];

export function toSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const out = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as JsonSchema;
  delete out.$schema;
  return out;
}

/** A $ref for a published component, else the schema inlined. */
export function ref(schema: z.ZodType | JsonSchema): JsonSchema {
  const named = COMPONENTS.find(([, s]) => s === schema);
  if (named) return { $ref: `#/components/schemas/${named[0]}` };
  return schema instanceof z.ZodType ? toSchema(schema, "output") : schema;
}

/** Our list envelope: { items, next_cursor, total }. */
export const list = (item: z.ZodType): JsonSchema => ({
  type: "object",
  required: ["items", "next_cursor", "total"],
  properties: { items: { type: "array", items: ref(item) }, next_cursor: { type: ["string", "null"] }, total: { type: "integer" } },
});

/** OpenAI's list envelope under /v1: { object: "list", data, first_id, last_id, has_more }. */
export const v1List = (item: z.ZodType): JsonSchema => ({
  type: "object",
  required: ["object", "data", "first_id", "last_id", "has_more"],
  properties: { object: { const: "list" }, data: { type: "array", items: ref(item) }, first_id: { type: ["string", "null"] }, last_id: { type: ["string", "null"] }, has_more: { type: "boolean" } },
});

export const items = (item: z.ZodType | JsonSchema): JsonSchema => ({ type: "object", properties: { items: { type: "array", items: ref(item) } } });

export const sse = (events: string): JsonSchema => ({ type: "string", description: `text/event-stream; events: ${events}` });
