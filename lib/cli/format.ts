// Terminal output for the CLI: aligned tables, durations, and the live progress line.
import { formatCost, formatCount, formatMs } from "../client/format";
import { formatShare, headline, outcomeLabel, type OutcomeView } from "../client/outcome";
import type { BatchSummary } from "../contract/batches";

export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return "(none)";
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join("\n");
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return "-";
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "-";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export interface ProgressView extends OutcomeView {
  progress: OutcomeView["progress"] & { running: number };
  timing: { items_per_second: number | null; eta_seconds: number | null };
  cost?: { spent: number; max: number | null };
}

/** Spent against the budget ("$4.47 / $10.00"), only when the batch has a max_cost. */
export function budgetText(cost: ProgressView["cost"]): string | null {
  if (!cost || cost.max === null) return null;
  const share = cost.max > 0 ? ` (${formatShare((cost.spent / cost.max) * 100)})` : "";
  return `${formatCost(cost.spent)} / ${formatCost(cost.max)}${share}`;
}

/** The live line under `create --wait`; once the batch ends it says how ("completed · 34 failed"). */
export function progressLine(b: ProgressView, width = 30): string {
  const p = b.progress;
  const head = headline(b);
  // the bar fills with the headline's share: a cancelled batch stops where it was cancelled
  const filled = Math.floor((Math.min(100, head.percent) / 100) * width);
  const rate = b.timing.items_per_second === null ? "-" : `${b.timing.items_per_second.toFixed(1)}/s`;
  const budget = budgetText(b.cost);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${formatShare(head.percent).padStart(4)} ${head.short} ok ${p.succeeded} failed ${p.failed} running ${p.running}  ${rate}  ETA ${duration(b.timing.eta_seconds)}${budget ? `  ${budget}` : ""}  ${outcomeLabel(b)}`;
}

const num = (n: number | null, digits = 2) => (n === null ? "-" : Number.isInteger(n) ? String(n) : n.toFixed(digits));
const valueText = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/** `batchboard summary`: counts, cost, durations, then each field's distribution (with bars) or statistics. */
export function summaryText(s: BatchSummary, width = 30): string {
  const c = s.counts;
  const lines = [
    `batch      ${s.batch_id}  ${s.status}`,
    `records    ${formatCount(c.total)}: succeeded ${formatCount(c.succeeded)}, failed ${formatCount(c.failed)}, pending ${formatCount(c.pending)}, running ${formatCount(c.running)}, waiting ${formatCount(c.waiting_input)}${c.waiting_provider > 0 ? `, at the provider ${formatCount(c.waiting_provider)}` : ""}, cancelled ${formatCount(c.cancelled)}, skipped ${formatCount(c.skipped)}`,
  ];
  const ps = s.partial_success;
  if (ps) {
    const under = ps.threshold === null ? "" : `, under the ${formatShare(ps.threshold * 100)} error threshold`;
    lines.push(`           partial success: ${formatCount(ps.failed)} of ${formatCount(ps.succeeded + ps.failed)} failed (${formatShare(ps.failure_rate * 100)})${under}`);
  }
  if (s.errors.length) lines.push(`errors     ${s.errors.map((e) => `${e.code} ${formatCount(e.count)}`).join(", ")}`);
  lines.push(`retries    ${formatCount(s.retries_used)} used`);
  const budget = budgetText({ spent: s.cost.total, max: s.cost.max_cost });
  lines.push(`cost       ${budget ?? formatCost(s.cost.total)}, mean ${formatCost(s.cost.mean_per_record)} per record`);
  const d = s.duration_ms;
  lines.push(
    d.count === 0
      ? "duration   -"
      : `duration   ${formatCount(d.count)} runs: mean ${formatMs(d.mean)}, min ${formatMs(d.min)}, p50 ${formatMs(d.p50)}, p95 ${formatMs(d.p95)}, max ${formatMs(d.max)}`,
  );
  for (const g of s.group_by) {
    lines.push("", `${g.field}  (${formatCount(g.present)} values, ${formatCount(g.distinct)} distinct${g.missing ? `, ${formatCount(g.missing)} missing` : ""})`);
    const rows = [...g.values.map((v) => ({ label: valueText(v.value), count: v.count })), ...(g.other ? [{ label: "(other)", count: g.other }] : [])];
    const max = Math.max(1, ...rows.map((r) => r.count));
    const labelWidth = Math.min(30, Math.max(...rows.map((r) => r.label.length), 0));
    const countWidth = Math.max(...rows.map((r) => formatCount(r.count).length), 0);
    for (const r of rows) {
      const label = r.label.length > labelWidth ? `${r.label.slice(0, labelWidth - 1)}…` : r.label.padEnd(labelWidth);
      const share = g.present ? ` ${formatShare((r.count / g.present) * 100)}` : "";
      lines.push(`  ${label}  ${formatCount(r.count).padStart(countWidth)}  ${"#".repeat(Math.max(1, Math.round((r.count / max) * width)))}${share}`);
    }
  }
  for (const st of s.stats) {
    lines.push(
      "",
      `${st.field}  (${formatCount(st.count)} values${st.missing ? `, ${formatCount(st.missing)} missing` : ""})`,
      `  mean ${num(st.mean)}  min ${num(st.min)}  p50 ${num(st.p50)}  p95 ${num(st.p95)}  max ${num(st.max)}`,
    );
  }
  return lines.join("\n");
}
