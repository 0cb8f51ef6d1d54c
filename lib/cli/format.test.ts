// The CLI's progress line and summary, as a terminal shows them.
import { describe, expect, it } from "vitest";
import type { BatchSummary } from "../contract/batches";
import { progressLine, summaryText, type ProgressView } from "./format";

const running: ProgressView = {
  status: "running",
  stop_reason: null,
  outcome: null,
  progress: { total: 5000, succeeded: 2333, failed: 12, cancelled: 0, skipped: 0, running: 3, percent: 46.9 },
  timing: { items_per_second: 17.4, eta_seconds: 135 },
};

describe("progressLine", () => {
  it("shows spent against the budget when the batch has a max_cost", () => {
    const line = progressLine({ ...running, cost: { spent: 4.47, max: 10 } });
    expect(line).toContain("  $4.47 / $10.00 (44%)  ");
    expect(line).toBe("[##############----------------]  46% 2,345/5,000 ok 2333 failed 12 running 3  17.4/s  ETA 2m15s  $4.47 / $10.00 (44%)  running");
  });

  it("shows no budget when the batch has none", () => {
    expect(progressLine({ ...running, cost: { spent: 4.47, max: null } })).not.toContain("$");
  });
});

const summary: BatchSummary = {
  batch_id: "b_1",
  status: "completed",
  outcome: { kind: "some_failed", succeeded: 7, failed: 2 },
  counts: { total: 9, pending: 0, running: 0, waiting_input: 0, waiting_provider: 0, succeeded: 7, failed: 2, cancelled: 0, skipped: 0 },
  partial_success: { succeeded: 7, failed: 2, failure_rate: 0.2222, threshold: 0.5 },
  errors: [{ code: "timeout", count: 2 }],
  retries_used: 3,
  fields: [],
  cost: { total: 4.47, mean_per_record: 0.4967, max_cost: 10 },
  duration_ms: { count: 9, mean: 500, min: 100, max: 900, p50: 500, p95: 860 },
  group_by: [
    {
      field: "result.label",
      present: 7,
      missing: 0,
      distinct: 3,
      values: [
        { value: "positive", count: 4 },
        { value: "negative", count: 2 },
      ],
      other: 1,
    },
  ],
  stats: [{ field: "result.score", count: 7, missing: 0, mean: 3.5, min: 1, max: 6, p50: 3.5, p95: 5.75, histogram: [] }],
};

describe("summaryText", () => {
  it("prints counts, partial success, cost against the budget, durations, a distribution with bars and the stats", () => {
    expect(summaryText(summary, 8).split("\n")).toEqual([
      "batch      b_1  completed",
      "records    9: succeeded 7, failed 2, pending 0, running 0, waiting 0, cancelled 0, skipped 0",
      "           partial success: 2 of 9 failed (22%), under the 50% error threshold",
      "errors     timeout 2",
      "retries    3 used",
      "cost       $4.47 / $10.00 (44%), mean $0.50 per record",
      "duration   9 runs: mean 500 ms, min 100 ms, p50 500 ms, p95 860 ms, max 900 ms",
      "",
      "result.label  (7 values, 3 distinct)",
      "  positive  4  ######## 57%",
      "  negative  2  #### 28%",
      "  (other)   1  ## 14%",
      "",
      "result.score  (7 values)",
      "  mean 3.50  min 1  p50 3.50  p95 5.75  max 6",
    ]);
  });
});
