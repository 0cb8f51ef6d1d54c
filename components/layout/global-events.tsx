"use client";

import { useGlobalEvents } from "@/lib/client/sse";

/** Keeps one /api/events stream open for the whole app (lists, stats, the Inbox count). */
export function GlobalEvents() {
  useGlobalEvents();
  return null;
}
