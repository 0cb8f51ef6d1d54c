import { describe, expect, it } from "vitest";
import { visibleRange } from "./use-window";

describe("visibleRange", () => {
  it("renders the rows in view plus the overscan, and spaces the rest", () => {
    // 10,000 rows of 36 px, 720 px in view, scrolled to row 1,000
    const r = visibleRange(10_000, 36_000, 720, 36, 10);
    expect(r).toEqual({ start: 990, end: 1030, before: 990 * 36, after: (10_000 - 1030) * 36 });
    expect(r.before + (r.end - r.start) * 36 + r.after).toBe(10_000 * 36);
  });

  it("clamps at both ends", () => {
    expect(visibleRange(100, 0, 720, 36, 10)).toEqual({ start: 0, end: 30, before: 0, after: 70 * 36 });
    expect(visibleRange(100, 1e9, 720, 36, 10)).toEqual({ start: 100, end: 100, before: 3600, after: 0 });
    expect(visibleRange(12, 0, 720, 36, 10)).toEqual({ start: 0, end: 12, before: 0, after: 0 });
    expect(visibleRange(0, 0, 720, 36, 10)).toEqual({ start: 0, end: 0, before: 0, after: 0 });
  });
});
