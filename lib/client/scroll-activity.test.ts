import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { isScrolling, noteScroll, SCROLL_REST_MS, subscribeScrolling } from "./scroll-activity";

describe("scroll activity", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    vi.runAllTimers();
    vi.useRealTimers();
  });

  it("is scrolling from the first scroll event until the scroll has rested, and says so twice, not once an event", () => {
    const changes: boolean[] = [];
    const off = subscribeScrolling(() => changes.push(isScrolling()));
    expect(isScrolling()).toBe(false);
    noteScroll();
    expect(isScrolling()).toBe(true);
    // a scroll of many events: still scrolling while they keep coming within the rest time
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(SCROLL_REST_MS - 10);
      noteScroll();
    }
    expect(isScrolling()).toBe(true);
    vi.advanceTimersByTime(SCROLL_REST_MS - 1);
    expect(isScrolling()).toBe(true);
    vi.advanceTimersByTime(1);
    expect(isScrolling()).toBe(false);
    expect(changes).toEqual([true, false]);
    off();
    noteScroll();
    expect(changes).toEqual([true, false]);
  });
});
