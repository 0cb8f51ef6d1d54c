// The retry delay: "equal jitter" over an exponential base, capped at an hour.
import { afterEach, describe, expect, it, vi } from "vitest";
import { backoffMs } from "@/lib/worker/attempt";

afterEach(() => vi.restoreAllMocks());

describe("backoffMs", () => {
  it("is half the doubled base plus up to as much again at random", () => {
    const random = vi.spyOn(Math, "random");
    random.mockReturnValue(0);
    expect(backoffMs(1000, 1)).toBe(500);
    expect(backoffMs(1000, 2)).toBe(1000);
    expect(backoffMs(1000, 4)).toBe(4000);
    random.mockReturnValue(0.5);
    expect(backoffMs(1000, 1)).toBe(750);
    random.mockReturnValue(0.999999);
    expect(backoffMs(1000, 3)).toBeLessThan(4000);
    expect(backoffMs(1000, 3)).toBeGreaterThan(3999);
  });

  it("never waits more than an hour, however many attempts", () => {
    vi.spyOn(Math, "random").mockReturnValue(0.999999);
    expect(backoffMs(1000, 40)).toBeLessThanOrEqual(3_600_000);
    expect(backoffMs(1000, 40)).toBeGreaterThan(3_599_000);
    vi.spyOn(Math, "random").mockReturnValue(0);
    expect(backoffMs(1000, 40)).toBe(1_800_000);
  });

  it("stays within its bounds with the real random", () => {
    for (let attempt = 1; attempt <= 30; attempt++) {
      const d = Math.min(250 * 2 ** (attempt - 1), 3_600_000);
      for (let i = 0; i < 50; i++) {
        const ms = backoffMs(250, attempt);
        expect(ms).toBeGreaterThanOrEqual(d / 2);
        expect(ms).toBeLessThanOrEqual(d);
      }
    }
  });
});
