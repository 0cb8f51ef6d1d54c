// Engine events over PostgreSQL LISTEN/NOTIFY on channel "batchboard": every process (server,
// standalone workers) hears every transition. One LISTEN connection per process, fanned out.
import pg from "pg";
import { databaseUrl, getPool } from "@/lib/db/client";
import { listen, notify } from "@/lib/db/sql/events";
import type { BatchStatus, EngineEvent } from "./types";

export const CHANNEL = "batchboard";
/** at most one progress event per batch per this many ms; status changes are sent at once */
const THROTTLE_MS = 250;

interface EventsState {
  listeners: Set<(e: EngineEvent) => void>;
  client: pg.Client | null;
  connecting: boolean;
  retryTimer: NodeJS.Timeout | null;
  lastSent: Map<string, { at: number; status: BatchStatus }>;
  pendingTimers: Map<string, NodeJS.Timeout>;
}
const g = globalThis as typeof globalThis & { __batchboardEvents?: EventsState };
const state: EventsState = (g.__batchboardEvents ??= {
  listeners: new Set(),
  client: null,
  connecting: false,
  retryTimer: null,
  lastSent: new Map(),
  pendingTimers: new Map(),
});

function dispatch(e: EngineEvent) {
  for (const l of state.listeners) {
    try {
      l(e);
    } catch (err) {
      console.error(`[events] listener failed: ${(err as Error).message}`);
    }
  }
}

async function connect(delayMs = 0): Promise<void> {
  if (state.client || state.connecting || state.listeners.size === 0) return;
  state.connecting = true;
  const client = new pg.Client({ connectionString: databaseUrl() });
  const retry = () => {
    if (state.client === client) state.client = null;
    client.removeAllListeners();
    client.on("error", () => {});
    client.end().catch(() => {});
    if (state.listeners.size > 0 && !state.retryTimer) {
      const next = Math.min(Math.max(delayMs * 2, 250), 5_000);
      state.retryTimer = setTimeout(() => {
        state.retryTimer = null;
        void connect(next);
      }, next);
      state.retryTimer.unref();
    }
  };
  client.on("error", retry);
  client.on("end", retry);
  client.on("notification", (msg) => {
    if (msg.channel !== CHANNEL || !msg.payload) return;
    try {
      dispatch(JSON.parse(msg.payload) as EngineEvent);
    } catch {
      // a malformed payload from another tool on the channel is not ours to act on
    }
  });
  try {
    await client.connect();
    await listen(client, CHANNEL);
    state.client = client;
  } catch {
    retry();
  } finally {
    state.connecting = false;
  }
  if (state.listeners.size === 0) closeListener();
}

function closeListener() {
  const c = state.client;
  state.client = null;
  if (c) {
    c.removeAllListeners();
    c.on("error", () => {});
    c.end().catch(() => {});
  }
}

/** Calls `listener` for every engine event of every process; returns the unsubscribe function. */
export function subscribeEvents(listener: (e: EngineEvent) => void): () => void {
  state.listeners.add(listener);
  void connect();
  return () => {
    state.listeners.delete(listener);
    if (state.listeners.size === 0) closeListener();
  };
}

/** True once this process's LISTEN connection is up (tests wait for it). */
export function isListening(): boolean {
  return state.client !== null;
}

async function send(e: EngineEvent) {
  try {
    await notify(getPool(), CHANNEL, JSON.stringify(e));
  } catch (err) {
    // events are hints for live views; the data they point at is always in the tables
    console.error(`[events] notify failed: ${(err as Error).message}`);
  }
}

/**
 * Publishes a batch change, throttled per batch: a status change goes out at once, progress at most
 * every THROTTLE_MS (the last one is always delivered, after the window).
 */
export function notifyBatch(batchId: string, status: BatchStatus): void {
  const now = Date.now();
  const last = state.lastSent.get(batchId);
  if (!last || last.status !== status || now - last.at >= THROTTLE_MS) {
    const t = state.pendingTimers.get(batchId);
    if (t) clearTimeout(t);
    state.pendingTimers.delete(batchId);
    state.lastSent.set(batchId, { at: now, status });
    if (state.lastSent.size > 10_000) state.lastSent.clear();
    void send({ type: "batch", batchId, status });
    return;
  }
  if (state.pendingTimers.has(batchId)) return;
  const timer = setTimeout(() => {
    state.pendingTimers.delete(batchId);
    state.lastSent.set(batchId, { at: Date.now(), status });
    void send({ type: "batch", batchId, status });
  }, THROTTLE_MS - (now - last.at));
  timer.unref();
  state.pendingTimers.set(batchId, timer);
}

export function notifyPrompts(batchId: string): void {
  void send({ type: "prompts", batchId });
}
