// Terminal output for the CLI: aligned tables, durations, and the live progress line.

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

export interface ProgressView {
  status: string;
  progress: { total: number; succeeded: number; failed: number; cancelled: number; skipped: number; running: number; percent: number };
  timing: { items_per_second: number | null; eta_seconds: number | null };
}

export function progressLine(b: ProgressView, width = 30): string {
  const p = b.progress;
  const filled = Math.round((Math.min(100, p.percent) / 100) * width);
  const done = p.succeeded + p.failed + p.cancelled + p.skipped;
  const rate = b.timing.items_per_second === null ? "-" : `${b.timing.items_per_second.toFixed(1)}/s`;
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${p.percent.toFixed(1).padStart(5)}% ${done}/${p.total} ok ${p.succeeded} failed ${p.failed} running ${p.running}  ${rate}  ETA ${duration(b.timing.eta_seconds)}  ${b.status}`;
}
