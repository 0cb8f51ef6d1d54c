// Repeated measurements on a noisy machine: a row reports its median run, and names every run.
import type { Row } from "./types";

/**
 * The median of `runs` (the lower middle one for an even count, failed runs left out), its notes
 * listing every run's figure in the order they ran, e.g. "median of 3 interleaved runs: a / b / c".
 */
export function medianRow(runs: readonly Row[], what: string): Row {
  const ok = runs.filter((r) => !r.error && r.perSecond !== null);
  if (ok.length === 0) return runs[0]!;
  const sorted = [...ok].sort((a, b) => a.perSecond! - b.perSecond!);
  const mid = sorted[Math.floor((sorted.length - 1) / 2)]!;
  if (runs.length === 1) return mid;
  const figures = runs.map((r) => (r.error || r.perSecond === null ? "failed" : Math.round(r.perSecond).toLocaleString("en-US"))).join(" / ");
  return { ...mid, notes: [`median of ${runs.length} ${what}: ${figures} ${mid.unit}`, mid.notes].filter(Boolean).join("; ") };
}
