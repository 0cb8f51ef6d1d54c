import { describe, expect, it } from "vitest";
import { formatRate } from "./format";

describe("formatRate: every rate in jobs per minute", () => {
  it("converts jobs per second to jobs per minute, whatever the size", () => {
    expect(formatRate(100)).toBe("6,000 jobs/min");
    expect(formatRate(0.5)).toBe("30 jobs/min");
    expect(formatRate(1 / 6)).toBe("10 jobs/min");
    expect(formatRate(0.075)).toBe("4.5 jobs/min");
    expect(formatRate(1 / 60)).toBe("1.0 jobs/min");
  });

  it("keeps two significant digits below one a minute, and never switches unit", () => {
    expect(formatRate(1 / 3600)).toBe("0.017 jobs/min");
    expect(formatRate(0.001)).toBe("0.06 jobs/min");
    for (const r of [1e-6, 0.01, 0.1, 1, 10, 1e4]) expect(formatRate(r)).toMatch(/^[\d,.]+ jobs\/min$/);
  });

  it("shows 0 for a stopped rate and a dash for none", () => {
    expect(formatRate(0)).toBe("0 jobs/min");
    expect(formatRate(null)).toBe("—");
    expect(formatRate(undefined)).toBe("—");
    expect(formatRate(Number.NaN)).toBe("—");
  });
});
