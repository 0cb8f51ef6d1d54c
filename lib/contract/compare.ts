// How two batches compare on a record: both ran it and the field agrees or not, or only one has it;
// and the answers of GET /api/compare and GET /api/compare/records, as on the wire.
import { z } from "zod";
import { BATCH_STATUSES, JOB_STATUSES } from "./statuses";

export const VERDICTS = ["same", "different", "only_a", "only_b"] as const;
export type Verdict = (typeof VERDICTS)[number];

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
