// Server-Sent Events: the engine's LISTEN/NOTIFY fan-out (subscribeEvents) pushed to clients, one
// subscription per connection and no polling loop. A comment line every 15s keeps proxies from
// closing an idle stream; the request's abort signal ends everything.
import "server-only";

const HEARTBEAT_MS = 15_000;

export interface SseChannel {
  send(event: string, data: unknown): void;
  close(): void;
  readonly closed: boolean;
}

/** Builds an SSE response; `start` wires its subscriptions and returns their cleanup. */
export function sseResponse(signal: AbortSignal, start: (channel: SseChannel) => (() => void) | void): Response {
  const encoder = new TextEncoder();
  let cleanup: (() => void) | void;
  let heartbeat: NodeJS.Timeout | undefined;
  let closed = false;
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;

  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    signal.removeEventListener("abort", finish);
    try {
      cleanup?.();
    } catch (err) {
      console.error("[sse] cleanup failed:", err);
    }
    try {
      controllerRef?.close();
    } catch {
      // already closed by the client
    }
  };

  const channel: SseChannel = {
    send(event, data) {
      if (closed || !controllerRef) return;
      try {
        controllerRef.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
      } catch {
        finish();
      }
    },
    close: finish,
    get closed() {
      return closed;
    },
  };

  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controllerRef = controller;
      controller.enqueue(encoder.encode(`retry: 3000\n\n`));
      heartbeat = setInterval(() => {
        try {
          controller.enqueue(encoder.encode(`: heartbeat ${new Date().toISOString()}\n\n`));
        } catch {
          finish();
        }
      }, HEARTBEAT_MS);
      if (signal.aborted) return finish();
      signal.addEventListener("abort", finish);
      cleanup = start(channel);
      if (closed) cleanup?.();
    },
    cancel() {
      finish();
    },
  });

  return new Response(stream, {
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      Connection: "keep-alive",
      "X-Accel-Buffering": "no",
    },
  });
}

/** Calls `fn` at most every `ms` per key, always delivering the latest call after the window. */
export function throttleByKey(ms: number, fn: (key: string) => void) {
  const last = new Map<string, number>();
  const timers = new Map<string, NodeJS.Timeout>();
  return {
    call(key: string) {
      if (timers.has(key)) return;
      const wait = Math.max(0, (last.get(key) ?? 0) + ms - Date.now());
      if (wait === 0) {
        last.set(key, Date.now());
        fn(key);
        return;
      }
      timers.set(
        key,
        setTimeout(() => {
          timers.delete(key);
          last.set(key, Date.now());
          fn(key);
        }, wait),
      );
    },
    cancel() {
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
    },
  };
}
