"use client";
// While a long list is being scrolled, the page's other panels hold back new data whose render is
// dear (recharts charts: in bench/pages a summary answer arriving mid-scroll was followed by a frame
// of 117 ms, BENCH_SCROLL_DETAIL=1). The list notes each scroll; once it has rested for
// SCROLL_REST_MS the held panels render what arrived meanwhile. Nothing else waits: the rows, the
// progress and every control are live throughout.
import { useState, useSyncExternalStore } from "react";

/** A scroll is over once no scroll event came for this long. */
export const SCROLL_REST_MS = 250;

let scrolling = false;
let timer: ReturnType<typeof setTimeout> | null = null;
const listeners = new Set<() => void>();
const notify = () => listeners.forEach((l) => l());

/** Called from a list's scroll handler. */
export function noteScroll(): void {
  if (timer !== null) clearTimeout(timer);
  timer = setTimeout(() => {
    timer = null;
    scrolling = false;
    notify();
  }, SCROLL_REST_MS);
  if (!scrolling) {
    scrolling = true;
    notify();
  }
}

/** Called back when a scroll starts and when it has rested; returns the unsubscribe. */
export function subscribeScrolling(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** True while a list is being scrolled (and for SCROLL_REST_MS after its last scroll event). */
export const isScrolling = (): boolean => scrolling;

export function useScrolling(): boolean {
  return useSyncExternalStore(subscribeScrolling, isScrolling, () => false);
}

/** `value`, except while a list scrolls: then the value it had when the scroll began. */
export function useHeldWhileScrolling<T>(value: T): T {
  const scrollingNow = useScrolling();
  const [held, setHeld] = useState(value);
  if (!scrollingNow && held !== value) setHeld(value);
  return scrollingNow ? held : value;
}
