// Repeated measurements on a noisy machine: a row reports its median run, and names every run.
import type { Row } from "./types";

/** The median of `xs` (the mean of the two middle ones for an even count), NaN for none. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The middle item of `items` (not empty) by `key`: the lower middle one for an even count. */
export function medianBy<T>(items: readonly T[], key: (item: T) => number): T {
  return [...items].sort((a, b) => key(a) - key(b))[Math.floor((items.length - 1) / 2)]!;
}

/**
 * The median of `runs` (the lower middle one for an even count, failed runs left out), its notes
 * listing every run's figure in the order they ran, e.g. "median of 3 interleaved runs: a / b / c".
 */
export function medianRow(runs: readonly Row[], what: string): Row {
  const ok = runs.filter((r) => !r.error && r.perSecond !== null);
  if (ok.length === 0) return runs[0]!;
  const mid = medianBy(ok, (r) => r.perSecond!);
  if (runs.length === 1) return mid;
  const figures = runs.map((r) => (r.error || r.perSecond === null ? "failed" : Math.round(r.perSecond).toLocaleString("en-US"))).join(" / ");
  return { ...mid, notes: [`median of ${runs.length} ${what}: ${figures} ${mid.unit}`, mid.notes].filter(Boolean).join("; ") };
}
