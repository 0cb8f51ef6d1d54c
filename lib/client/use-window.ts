"use client";
// Fixed-row-height windowing for a scrolling container: which rows of `count` are in view (plus an
// overscan on each side), the space above and below them, and a way to bring one row into view.
// The rows' height is measured from a rendered row, so CSS (font, density, phone widths) decides it.
import { useLayoutEffect, useRef, useState, type RefObject } from "react";

export interface RowWindow {
  /** first and one-past-last rendered row */
  start: number;
  end: number;
  /** px above the first rendered row and below the last one */
  before: number;
  after: number;
  rowHeight: number;
  onScroll: () => void;
  /** scrolls the container just enough to show row `i` */
  scrollToRow: (i: number) => void;
}

/** The rows to render for a scroll position: pure, so it is tested without a browser. */
export function visibleRange(count: number, scrollTop: number, viewport: number, rowHeight: number, overscan: number) {
  const h = Math.max(1, rowHeight);
  const first = Math.floor(Math.max(0, scrollTop) / h);
  const last = Math.ceil((Math.max(0, scrollTop) + Math.max(0, viewport)) / h);
  const start = Math.max(0, Math.min(count, first - overscan));
  const end = Math.max(start, Math.min(count, last + overscan));
  return { start, end, before: start * h, after: (count - end) * h };
}

export function useRowWindow(
  container: RefObject<HTMLElement | null>,
  count: number,
  { estimate = 36, overscan = 12, rowSelector = "tbody tr[data-index]" }: { estimate?: number; overscan?: number; rowSelector?: string } = {},
): RowWindow {
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(800);
  const [rowHeight, setRowHeight] = useState(estimate);
  const frame = useRef<number | null>(null);

  const onScroll = () => {
    if (frame.current !== null) return; // at most one re-render a frame
    frame.current = requestAnimationFrame(() => {
      frame.current = null;
      const el = container.current;
      if (el) setScrollTop(el.scrollTop);
    });
  };

  useLayoutEffect(() => {
    const el = container.current;
    if (!el) return;
    const measure = () => {
      setViewport(el.clientHeight || 800);
      setScrollTop(el.scrollTop); // a container mounted again (after an empty filter) starts at its own top
      const row = el.querySelector<HTMLElement>(rowSelector);
      const h = row?.getBoundingClientRect().height;
      if (h && Math.abs(h - rowHeight) > 0.5) setRowHeight(h);
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
    // re-measure once rows exist (count goes from 0 to some)
  }, [container, rowSelector, rowHeight, count > 0]); // eslint-disable-line react-hooks/exhaustive-deps

  useLayoutEffect(
    () => () => {
      if (frame.current !== null) cancelAnimationFrame(frame.current);
    },
    [],
  );

  const scrollToRow = (i: number) => {
      const el = container.current;
      if (!el) return;
      const head = el.querySelector("thead")?.getBoundingClientRect().height ?? 0;
      const top = i * rowHeight;
      const bottom = top + rowHeight;
      let next = el.scrollTop;
      if (top < el.scrollTop) next = top;
      else if (bottom + head > el.scrollTop + el.clientHeight) next = bottom + head - el.clientHeight;
      if (next !== el.scrollTop) {
        el.scrollTo({ top: next });
        setScrollTop(el.scrollTop);
      }
  };

  return { ...visibleRange(count, scrollTop, viewport, rowHeight, overscan), rowHeight, onScroll, scrollToRow };
}
