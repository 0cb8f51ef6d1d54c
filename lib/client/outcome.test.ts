// The words the dashboard and the CLI use for how a batch ended.
import { describe, expect, it } from "vitest";
import { formatShare, headline, outcomeBadge, outcomeDetail, outcomeLabel, outcomeTone, type OutcomeView } from "./outcome";

const progress = (p: Partial<OutcomeView["progress"]>): OutcomeView["progress"] => ({
  total: 2000,
  succeeded: 0,
  failed: 0,
  cancelled: 0,
  skipped: 0,
  percent: 100,
  ...p,
});

describe("how a batch ended, in words", () => {
  it("a completed batch with failures says how many; one where all failed is not read as a success", () => {
    const some: OutcomeView = { status: "completed", stop_reason: null, outcome: { kind: "some_failed", succeeded: 1966, failed: 34 }, progress: progress({ succeeded: 1966, failed: 34 }) };
    expect(outcomeLabel(some)).toBe("completed · 34 failed");
    expect(outcomeTone(some)).toBe("partial");
    const all: OutcomeView = { status: "completed", stop_reason: null, outcome: { kind: "all_failed", failed: 5 }, progress: progress({ total: 5, failed: 5 }) };
    expect(outcomeLabel(all)).toBe("completed · all 5 failed");
    expect(outcomeTone(all)).toBe("failed");
    const ok: OutcomeView = { status: "completed", stop_reason: null, outcome: { kind: "all_succeeded", succeeded: 5 }, progress: progress({ total: 5, succeeded: 5 }) };
    expect([outcomeLabel(ok), outcomeTone(ok)]).toEqual(["completed", "completed"]);
  });

  it("a batch cancelled at 38% reads 38%, not 100% of 2,000 finished", () => {
    const b: OutcomeView = {
      status: "cancelled",
      stop_reason: "cancelled",
      outcome: { kind: "cancelled_at", processed: 760, total: 2000, percent: 38 },
      progress: progress({ succeeded: 740, failed: 20, cancelled: 1240 }),
    };
    expect(outcomeLabel(b)).toBe("cancelled at 38% (760 of 2,000 processed)");
    expect(outcomeBadge(b)).toBe("cancelled at 38%");
    expect(headline(b)).toEqual({ percent: 38, text: "cancelled at 38% (760 of 2,000 processed)", short: "760/2,000 processed" });
    expect(outcomeDetail(b)).toBe("Cancelled by a user at 38% (760 of 2,000 processed).");
  });

  it("a stop names its reason with the numbers that made it stop", () => {
    const b: OutcomeView = {
      status: "failed",
      stop_reason: "error_threshold",
      outcome: {
        kind: "stopped",
        processed: 23,
        total: 2000,
        percent: 1.15,
        stop: { reason: "error_threshold", failed: 14, finished: 23, rate: 0.6087, threshold: 0.2, min_finished: 20 },
      },
      progress: progress({ succeeded: 9, failed: 14, skipped: 1977 }),
    };
    expect(outcomeLabel(b)).toBe("stopped: error threshold");
    expect(outcomeDetail(b)).toBe(
      "Stopped: 14 of 23 finished records failed (61%), at or past the error threshold of 20% (counted from 20 finished).",
    );
    expect(headline(b).text).toBe("stopped at 1% (23 of 2,000 processed)");
    const budget: OutcomeView = { ...b, stop_reason: "budget_exhausted", outcome: { ...b.outcome!, kind: "stopped", stop: { reason: "budget_exhausted", spent: 5.25, max_cost: 5 } } as OutcomeView["outcome"] };
    expect(outcomeDetail(budget)).toBe("Stopped: the budget is spent (5.25 of 5 when it stopped).");
  });

  it("an active batch reads its status, its share finished, and no detail", () => {
    const b: OutcomeView = { status: "running", stop_reason: null, outcome: null, progress: progress({ succeeded: 1999, percent: 99.95 }) };
    expect(outcomeLabel(b)).toBe("running");
    expect(outcomeDetail(b)).toBeNull();
    expect(headline(b).text).toBe("1,999 of 2,000 finished");
  });
});

describe("formatShare", () => {
  it("rounds down so 100% means all, and keeps a decimal under 1%", () => {
    expect([formatShare(100), formatShare(99.95), formatShare(38), formatShare(0.4), formatShare(0.01), formatShare(0)]).toEqual([
      "100%",
      "99%",
      "38%",
      "0.4%",
      "0.1%",
      "0%",
    ]);
  });
});
