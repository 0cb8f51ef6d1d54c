// A request body read at the client's pace, within limits: a client that sends nothing for
// BATCHBOARD_UPLOAD_IDLE_TIMEOUT_MS, or less than BATCHBOARD_UPLOAD_MIN_BYTES_PER_SECOND over such a
// window, is answered 408 (and an import under way rolls back whole). Only time spent waiting on the
// client counts: while the server is the slow side (its turn to import, a COPY's backpressure) the
// clock stops, because the stream is pulled only when its reader asks.
import "server-only";
import { getConfig } from "@/lib/config";
import { AppError } from "@/lib/errors";

export interface ClientPace {
  /** the window: nothing sent for this long is idle, and the rate is judged over each such span */
  windowMs: number;
  minBytesPerSecond: number;
}

function configuredPace(): ClientPace {
  const c = getConfig();
  return { windowMs: c.BATCHBOARD_UPLOAD_IDLE_TIMEOUT_MS, minBytesPerSecond: c.BATCHBOARD_UPLOAD_MIN_BYTES_PER_SECOND };
}

function tooSlow(got: number, pace: ClientPace): AppError {
  const seconds = pace.windowMs / 1000;
  const message =
    got === 0
      ? `the client sent nothing for ${seconds} s (BATCHBOARD_UPLOAD_IDLE_TIMEOUT_MS)`
      : `the client sent ${got} bytes in ${seconds} s, below the minimum of ${pace.minBytesPerSecond} bytes a second (BATCHBOARD_UPLOAD_MIN_BYTES_PER_SECOND)`;
  return new AppError("request_timeout", `the request body arrived too slowly: ${message}`, [{ message }]);
}

const WAITING = Symbol("waiting");

/** `body`, failing with 408 once the client falls below the pace. Pulls only as fast as it is read. */
export function pacedBody(body: ReadableStream<Uint8Array>, pace: ClientPace = configuredPace()): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const need = (pace.minBytesPerSecond * pace.windowMs) / 1000;
  let waited = 0; // ms of the current window spent waiting on the client
  let got = 0; // bytes the client sent in it
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          const read = (pending ??= reader.read());
          const started = Date.now();
          let timer: NodeJS.Timeout | undefined;
          const windowEnd = new Promise<typeof WAITING>((r) => (timer = setTimeout(() => r(WAITING), pace.windowMs - waited)));
          const next = await Promise.race([read, windowEnd]).finally(() => clearTimeout(timer));
          waited += Date.now() - started;
          if (next !== WAITING) {
            pending = null;
            if (next.done) return controller.close();
            got += next.value.byteLength;
          }
          if (waited >= pace.windowMs) {
            if (got < need) {
              const err = tooSlow(got, pace);
              void reader.cancel(err).catch(() => {});
              throw err;
            }
            waited = 0;
            got = 0;
          }
          if (next !== WAITING) return controller.enqueue(next.value);
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
