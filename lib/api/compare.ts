// Compare two batches: the engine's answers in the wire's shape, and the comparison as JSONL or CSV.
import "server-only";
import type { z } from "zod";
import { csvLine } from "@/lib/datasets/export";
import type { ComparedRecord, CompareSide, CompareSummary } from "@/lib/engine/compare";
import type { ComparedRecordSchema, CompareSummarySchema } from "./compare-schemas";
import { linesStream } from "./results";

type SideJson = z.infer<typeof CompareSummarySchema>["a"];

function toSideJson(s: CompareSide): SideJson {
  return {
    id: s.id,
    name: s.name,
    flow: s.flow,
    status: s.status,
    total: s.total,
    succeeded: s.succeeded,
    failed: s.failed,
    cancelled: s.cancelled,
    skipped: s.skipped,
    cost: s.cost,
    duration_ms: s.durationMs,
    started_at: s.startedAt?.toISOString() ?? null,
    completed_at: s.completedAt?.toISOString() ?? null,
  };
}

export function toCompareSummaryJson(field: string, s: CompareSummary): z.infer<typeof CompareSummarySchema> {
  return {
    field,
    a: toSideJson(s.a),
    b: toSideJson(s.b),
    totals: s.totals,
    agreement: s.agreement,
    matrix: s.matrix,
    difference: s.difference,
  };
}

export function toComparedRecordJson(r: ComparedRecord): z.infer<typeof ComparedRecordSchema> {
  return { record_id: r.recordId, verdict: r.verdict, a: r.a, b: r.b, data: r.data };
}

export const COMPARE_CSV_COLUMNS = ["record_id", "verdict", "a_status", "a_value", "b_status", "b_value", "record"] as const;

/** Every compared record as JSONL (one ComparedRecord per line) or CSV (values as JSON text). */
export function comparisonStream(rows: AsyncGenerator<ComparedRecord>, format: "jsonl" | "csv"): ReadableStream<Uint8Array> {
  if (format === "jsonl") return linesStream(rows, (r) => `${JSON.stringify(toComparedRecordJson(r))}\n`);
  const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
  return linesStream(
    rows,
    (r) => csvLine([r.recordId, r.verdict, r.a?.status ?? null, json(r.a?.value), r.b?.status ?? null, json(r.b?.value), json(r.data)]),
    csvLine(COMPARE_CSV_COLUMNS),
  );
}
