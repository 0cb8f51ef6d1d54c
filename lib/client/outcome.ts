// How a batch ended, in words, for the dashboard and the CLI alike ("completed · 34 failed",
// "cancelled at 38% (760 of 2,000 processed)"). Pure, relative imports only: the CLI loads it too.
import type { BatchOutcome } from "@/lib/contract/batches";
import { formatCount } from "./format";

/** The parts of a batch (as on the wire) these read. */
export interface OutcomeView {
  status: string;
  stop_reason: string | null;
  outcome: BatchOutcome;
  progress: { total: number; succeeded: number; failed: number; cancelled: number; skipped: number; percent: number };
}

/**
 * A share as a person reads it: rounded down, so 100% only ever means all of it (99.96% reads 99%),
 * with a decimal under 1% so a little is not read as nothing.
 */
export function formatShare(percent: number): string {
  if (percent >= 100) return "100%";
  if (percent >= 1) return `${Math.floor(percent)}%`;
  if (percent > 0) return `${Math.max(0.1, Math.floor(percent * 10) / 10)}%`;
  return "0%";
}

const finishedOf = (p: OutcomeView["progress"]) => p.succeeded + p.failed + p.cancelled + p.skipped;

/**
 * The number a progress headline shows, and what it counts. While a batch runs (and once it
 * completed): records in a final state. Once cancelled or stopped: records processed, since the rest
 * reached their final state without running.
 */
export function headline(b: OutcomeView): { percent: number; text: string; short: string } {
  const o = b.outcome;
  const p = b.progress;
  if (o?.kind === "cancelled_at" || o?.kind === "stopped") {
    const of = `${formatCount(o.processed)} of ${formatCount(o.total)} processed`;
    return {
      percent: o.percent,
      text: `${o.kind === "cancelled_at" ? "cancelled" : "stopped"} at ${formatShare(o.percent)} (${of})`,
      short: `${formatCount(o.processed)}/${formatCount(o.total)} processed`,
    };
  }
  return {
    percent: p.percent,
    text: `${formatCount(finishedOf(p))} of ${formatCount(p.total)} finished`,
    short: `${formatCount(finishedOf(p))}/${formatCount(p.total)}`,
  };
}

const STOP_NAMES: Record<string, string> = {
  error_threshold: "error threshold",
  error_policy: "first failure",
  budget_exhausted: "budget spent",
};

/** One short line: the status and, once it ended, how ("completed · 34 failed"). */
export function outcomeLabel(b: OutcomeView): string {
  const o = b.outcome;
  if (!o) return b.stop_reason === "budget_exhausted" ? `${b.status} · stopping: budget spent` : b.status;
  switch (o.kind) {
    case "all_succeeded":
      return "completed";
    case "some_failed":
      return `completed · ${formatCount(o.failed)} failed`;
    case "all_failed":
      return `completed · all ${formatCount(o.failed)} failed`;
    case "cancelled_at":
      return `cancelled at ${formatShare(o.percent)} (${formatCount(o.processed)} of ${formatCount(o.total)} processed)`;
    case "stopped":
      return `stopped: ${STOP_NAMES[o.stop.reason] ?? o.stop.reason}`;
  }
}

/** The badge's words: the label without the parenthesis. */
export function outcomeBadge(b: OutcomeView): string {
  return outcomeLabel(b).replace(/ \(.*\)$/, "");
}

/** The colour a status badge takes: by how the batch ended, not by its status alone. */
export function outcomeTone(b: OutcomeView): string {
  switch (b.outcome?.kind) {
    case undefined:
      return b.status;
    case "all_succeeded":
      return "completed";
    case "some_failed":
      return "partial";
    case "all_failed":
    case "stopped":
      return "failed";
    case "cancelled_at":
      return "cancelled";
  }
}

/** A rate (not a share of progress): rounded to the nearest percent, a decimal when small. */
const pct = (rate: number) => (rate >= 0.1 ? `${Math.round(rate * 100)}%` : `${Math.round(rate * 1000) / 10}%`);
const money = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(Math.abs(n) < 0.01 ? 4 : 2));

/** What stopped or cancelled a batch, with its numbers; null when it has nothing to explain. */
export function outcomeDetail(b: OutcomeView): string | null {
  const o = b.outcome;
  if (!o) return b.stop_reason === "budget_exhausted" ? "Stopping: the budget is spent; jobs already running may finish." : null;
  if (o.kind === "cancelled_at") return `Cancelled by a user at ${formatShare(o.percent)} (${formatCount(o.processed)} of ${formatCount(o.total)} processed).`;
  if (o.kind !== "stopped") return null;
  const s = o.stop;
  switch (s.reason) {
    case "error_threshold":
      return `Stopped: ${formatCount(s.failed)} of ${formatCount(s.finished)} finished records failed (${pct(s.rate)}), at or past the error threshold of ${pct(s.threshold)} (counted from ${formatCount(s.min_finished)} finished).`;
    case "error_policy":
      return `Stopped at the first failure (error policy: stop)${s.record_id ? `: record ${s.record_id} failed` : ""}${s.error ? ` with ${s.error.code}: ${s.error.message}` : ""}.`;
    case "budget_exhausted":
      return `Stopped: the budget is spent (${money(s.spent)} of ${money(s.max_cost)} when it stopped).`;
  }
}
