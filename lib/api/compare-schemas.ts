// The query schemas of GET /api/compare and GET /api/compare/records (snake_case, as on the wire);
// their answers' schemas are in lib/contract/compare.ts.
import { z } from "zod";
import { VERDICTS } from "@/lib/contract/compare";
import { findUnstorable } from "@/lib/db/storable";
import { cursorParam, limitParam, listOf, single } from "@/lib/contract/wire";

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

// the answers are wire schemas the dashboard reads too: declared in the contract
export { ComparedRecordSchema, CompareSummarySchema } from "@/lib/contract/compare";
