// Which result fields a batch's summary describes when none are named: the label-like field whose
// distribution is charted first and the numeric fields given histograms. The batch page's Results
// panel and GET /api/batches/{id}/summary?auto=true choose the same way, from the summary's `fields`
// (the top-level result fields of a sample of results, with the JSON types their values had).

/** A result field as the summary lists it. */
export interface SummaryField {
  field: string;
  types: string[];
}

/** Flows whose result carries a label by design. */
const LABEL_FLOWS: Record<string, string> = { classify: "result.label", review: "result.label" };
const LABEL_NAMES = ["label", "category", "class", "sentiment", "status", "verdict"];
/** Numeric fields described at most, the first ones in the sample's order. */
export const AUTO_STATS_MAX = 3;

export const isNumericField = (f: SummaryField) => f.types.includes("number") && f.types.every((t) => t === "number" || t === "null");
export const isLabelLikeField = (f: SummaryField) => f.types.length > 0 && f.types.every((t) => t === "string" || t === "boolean" || t === "null");

/** The field whose distribution is shown first: the flow's label, else a label-named or string field. */
export function detectLabelField(flow: string, fields: SummaryField[]): string | null {
  if (LABEL_FLOWS[flow]) return LABEL_FLOWS[flow]!;
  const labels = fields.filter(isLabelLikeField);
  const named = labels.find((f) => LABEL_NAMES.includes(f.field.slice("result.".length).toLowerCase()));
  return (named ?? labels[0])?.field ?? null;
}

/** The numeric fields described: the first AUTO_STATS_MAX all of whose values were numbers (or null). */
export const autoStatsFields = (fields: SummaryField[]): string[] => fields.filter(isNumericField).slice(0, AUTO_STATS_MAX).map((f) => f.field);
