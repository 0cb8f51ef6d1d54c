"use client";
// Server-Sent Events feeding the react-query cache. Live data arrives by SSE; hooks poll only when
// the stream has failed (see `failed`) and something is still active.
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, useSyncExternalStore } from "react";
import { batchKeys, isLiveJobList, jobKeys, promptKeys, statsKeys, workerKeys } from "./keys";
import { isActiveBatch, type Batch } from "./types";

type Handlers = Record<string, (data: unknown) => void>;

function parse(e: MessageEvent): unknown {
  try {
    return JSON.parse(String(e.data));
  } catch {
    return null;
  }
}

/**
 * Opens an EventSource while `url` is set. `failed` turns true when the stream errors and stays
 * true until it opens again (EventSource reconnects by itself; a 4xx closes it for good).
 */
export function useEventSource(url: string | null, handlers: Handlers): { failed: boolean } {
  const [failed, setFailed] = useState(false);
  const ref = useRef(handlers);
  useEffect(() => {
    ref.current = handlers;
  });
  const names = Object.keys(handlers).sort().join(",");
  useEffect(() => {
    if (!url || typeof EventSource === "undefined") return;
    const source = new EventSource(url);
    source.onopen = () => setFailed(false);
    source.onerror = () => setFailed(true);
    for (const name of names.split(",").filter(Boolean)) {
      source.addEventListener(name, (e) => {
        const data = parse(e as MessageEvent);
        ref.current[name]?.(data);
        if (name === "end") source.close();
      });
    }
    return () => source.close();
  }, [url, names]);
  return { failed: url ? failed : false };
}

/** Runs `fn` at most once per `ms`, with a trailing call so the last change is never lost. */
function throttle(fn: () => void, ms: number): () => void {
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  return () => {
    const wait = last + ms - Date.now();
    if (wait <= 0) {
      last = Date.now();
      fn();
    } else if (!timer) {
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        fn();
      }, wait);
    }
  };
}

// The global stream's health, shared by every hook that decides whether to poll.
let globalFailed = false;
const listeners = new Set<() => void>();
function setGlobalFailed(v: boolean) {
  if (globalFailed === v) return;
  globalFailed = v;
  listeners.forEach((l) => l());
}
export function useGlobalStreamFailed(): boolean {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => globalFailed,
    () => false,
  );
}

function makeGlobalHandlers(qc: QueryClient): Handlers {
  const refreshLists = throttle(() => {
    void qc.invalidateQueries({ queryKey: batchKeys.lists() });
    void qc.invalidateQueries({ queryKey: statsKeys.all });
    void qc.invalidateQueries({ queryKey: workerKeys.all });
  }, 1_000);
  const refreshPrompts = throttle(() => void qc.invalidateQueries({ queryKey: promptKeys.open() }), 500);
  return {
    batch: (data) => {
      const batch = data as Batch | null;
      if (batch?.id) qc.setQueryData(batchKeys.detail(batch.id), batch);
      refreshLists();
    },
    prompts: (data) => {
      const open = (data as { open?: number } | null)?.open;
      if (typeof open === "number") qc.setQueryData(promptKeys.openCount(), open);
      refreshPrompts();
    },
  };
}

/** Mounted once in the shell: the global stream (/api/events) for lists, stats and the Inbox count. */
export function useGlobalEvents(): void {
  const qc = useQueryClient();
  const [handlers] = useState(() => makeGlobalHandlers(qc));
  const { failed } = useEventSource("/api/events", handlers);
  useEffect(() => setGlobalFailed(failed), [failed]);
}

/** One batch's stream: the batch itself lands in the cache; jobs and metrics refresh, throttled. */
export function useBatchEvents(batchId: string, status: Batch["status"] | undefined): { failed: boolean } {
  const qc = useQueryClient();
  const [handlers] = useState<Handlers>(() => {
    const refreshRest = throttle(() => {
      // a page of jobs still on its way is not cancelled for this refresh (a slow page would be asked
      // for again and again); the next event refreshes the rows, and the end of the batch always does
      void qc.invalidateQueries({ queryKey: jobKeys.batch(batchId), predicate: isLiveJobList }, { cancelRefetch: false });
      void qc.invalidateQueries({ queryKey: batchKeys.metrics(batchId) });
      void qc.invalidateQueries({ queryKey: batchKeys.summaries(batchId) });
    }, 2_000);
    return {
      batch: (data) => {
        const batch = data as Batch | null;
        if (batch?.id === batchId) qc.setQueryData(batchKeys.detail(batchId), batch);
        refreshRest();
      },
      end: () => {
        void qc.invalidateQueries({ queryKey: batchKeys.detail(batchId) });
        void qc.invalidateQueries({ queryKey: jobKeys.batch(batchId) });
        void qc.invalidateQueries({ queryKey: batchKeys.metrics(batchId) });
        void qc.invalidateQueries({ queryKey: batchKeys.summaries(batchId) });
      },
    };
  });
  const live = isActiveBatch(status);
  return useEventSource(live ? `/api/batches/${encodeURIComponent(batchId)}/events` : null, handlers);
}
