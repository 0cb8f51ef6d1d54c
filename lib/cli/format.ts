// Terminal output for the CLI: aligned tables, durations, and the live progress line.
import { formatShare, headline, outcomeLabel, type OutcomeView } from "../client/outcome";

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
}

/** The live line under `create --wait`; once the batch ends it says how ("completed · 34 failed"). */
export function progressLine(b: ProgressView, width = 30): string {
  const p = b.progress;
  const head = headline(b);
  // the bar fills with the headline's share: a cancelled batch stops where it was cancelled
  const filled = Math.floor((Math.min(100, head.percent) / 100) * width);
  const rate = b.timing.items_per_second === null ? "-" : `${b.timing.items_per_second.toFixed(1)}/s`;
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${formatShare(head.percent).padStart(4)} ${head.short} ok ${p.succeeded} failed ${p.failed} running ${p.running}  ${rate}  ETA ${duration(b.timing.eta_seconds)}  ${outcomeLabel(b)}`;
}
