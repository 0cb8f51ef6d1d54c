// The claim loop's wake-up: the first of wake() and the timer ends a wait; a wake-up with no one
// waiting is not kept.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Wake } from "@/lib/worker/wake";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function watch(p: Promise<void>) {
  const state = { settled: false };
  void p.then(() => (state.settled = true));
  return state;
}

describe("Wake", () => {
  it("ends a wait at wake(), before its timer", async () => {
    const w = new Wake();
    const waiting = watch(w.wait(500));
    await vi.advanceTimersByTimeAsync(100);
    expect(waiting.settled).toBe(false);
    w.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(waiting.settled).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("ends a wait at its timer when no one wakes it", async () => {
    const w = new Wake();
    const waiting = watch(w.wait(500));
    await vi.advanceTimersByTimeAsync(499);
    expect(waiting.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(waiting.settled).toBe(true);
  });

  it("does not keep a wake-up for a later wait", async () => {
    const w = new Wake();
    w.wake();
    const first = watch(w.wait(500));
    await vi.advanceTimersByTimeAsync(0);
    expect(first.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(500);
    expect(first.settled).toBe(true);
    // the timer ended that wait: a wake-up now is not kept for the next one either
    w.wake();
    const second = watch(w.wait(500));
    await vi.advanceTimersByTimeAsync(10);
    expect(second.settled).toBe(false);
    w.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(second.settled).toBe(true);
  });
});
