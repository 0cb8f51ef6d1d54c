// The zod schemas of GET /api/compare and GET /api/compare/records (snake_case, as on the wire).
import { z } from "zod";
import { VERDICTS } from "@/lib/contract/compare";
import { BATCH_STATUSES, JOB_STATUSES } from "@/lib/contract/statuses";
import { findUnstorable } from "@/lib/db/storable";
import { cursorParam, limitParam, listOf, single } from "./schemas";

const batchId = z.string().min(1).max(200).refine((s) => findUnstorable(s) === null, "not a batch id");

/** "result" or "result.<key>[.<key>…]": a field of each job's result (resultPath gives its keys) */
export const resultFieldParam = z
  .string()
  .max(1000)
  .regex(/^result(\.[^.\u0000]{1,200}){0,16}$/, "a result path: result, or result.<field> with fields separated by dots")
  .refine((s) => findUnstorable(s) === null, "not storable text");

/** a JSON value as text (a cell of the matrix), kept as normalized JSON text */
const jsonValueParam = z.string().max(10_000).transform((s, ctx) => {
  try {
    return JSON.stringify(JSON.parse(s));
  } catch {
    ctx.addIssue({ code: "custom", message: "not JSON (a string value is written with its quotes: \"positive\")" });
    return z.NEVER;
  }
});

export const compareQuery = z.object({
  a: single(batchId).describe("the first batch's id"),
  b: single(batchId).describe("the second batch's id"),
  field: single(resultFieldParam.default("result")).describe("the result field compared, e.g. result.label (default: the whole result)"),
});

export const compareRecordsQuery = compareQuery.extend({
  verdict: listOf(VERDICTS),
  a_value: single(jsonValueParam.optional()).describe("only records whose A value is this JSON value (a cell of the matrix)"),
  b_value: single(jsonValueParam.optional()).describe("only records whose B value is this JSON value"),
  cursor: cursorParam,
  limit: limitParam,
  format: single(z.enum(["json", "jsonl", "csv"]).default("json")).describe("json: a page; jsonl or csv: every record, streamed"),
});

const sideSchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  flow: z.string(),
  status: z.enum(BATCH_STATUSES),
  total: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  cancelled: z.number().int(),
  skipped: z.number().int(),
  cost: z.number(),
  duration_ms: z.object({ mean: z.number().nullable(), p50: z.number().nullable(), p95: z.number().nullable() }),
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
});

export const CompareSummarySchema = z.object({
  field: z.string(),
  a: sideSchema,
  b: sideSchema,
  totals: z.object({ same: z.number().int(), different: z.number().int(), only_a: z.number().int(), only_b: z.number().int() }),
  agreement: z.number().nullable().describe("same / (same + different); null when no record is in both"),
  matrix: z
    .array(z.object({ a: z.unknown(), b: z.unknown(), count: z.number().int() }))
    .nullable()
    .describe("records in both batches per (A value, B value), for fields with at most 20 distinct text or boolean values"),
  difference: z
    .object({
      count: z.number().int(),
      mean: z.number(),
      min: z.number(),
      max: z.number(),
      p50: z.number(),
      p95: z.number(),
      histogram: z.array(z.object({ from: z.number(), to: z.number(), count: z.number().int() })),
    })
    .nullable()
    .describe("B minus A over the records whose field is a number in both"),
});

const comparedSide = z.object({ status: z.enum(JOB_STATUSES), value: z.unknown(), result: z.unknown() }).nullable();
export const ComparedRecordSchema = z.object({
  record_id: z.string(),
  verdict: z.enum(VERDICTS),
  a: comparedSide,
  b: comparedSide,
  data: z.unknown().describe("the record, from A's dataset (B's for a record only B has)"),
});
