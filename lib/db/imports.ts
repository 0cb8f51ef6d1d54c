// Imports (dataset uploads, large inline batches) take their connections from the import pool, and
// only after getting one of BATCHBOARD_IMPORT_CONCURRENCY places in line. The pool holds two
// connections a place, so an import that needs two (records and jobs written side by side) gets both
// at once: nobody waits for a connection while holding one, and a flood of slow uploads queues here,
// holding nothing, instead of taking the connections API requests and the worker need.
import type pg from "pg";
import { getConfig } from "@/lib/config";
import { AppError } from "@/lib/errors";
import { getImportPool } from "./client";

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout;
}

interface ImportState {
  running: number;
  queue: Waiter[];
}
const g = globalThis as typeof globalThis & { __batchboardImports?: ImportState };
const state: ImportState = (g.__batchboardImports ??= { running: 0, queue: [] });

function busy(waitMs: number): AppError {
  const message = `${getConfig().BATCHBOARD_IMPORT_CONCURRENCY} imports are running and none finished within ${waitMs} ms: retry later`;
  return new AppError("unavailable", message, [{ message }], { "Retry-After": "5" });
}

/** Waits (holding no connection) for a place among the running imports; 503 past BATCHBOARD_IMPORT_WAIT_MS. */
async function takePlace(): Promise<() => void> {
  const { BATCHBOARD_IMPORT_CONCURRENCY: places, BATCHBOARD_IMPORT_WAIT_MS: waitMs } = getConfig();
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    const next = state.queue.shift();
    if (next) {
      clearTimeout(next.timer);
      next.grant(); // the place passes straight to the next in line
    } else {
      state.running--;
    }
  };
  if (state.running < places) {
    state.running++;
    return release;
  }
  await new Promise<void>((resolve, reject) => {
    const waiter: Waiter = {
      grant: resolve,
      timer: setTimeout(() => {
        state.queue.splice(state.queue.indexOf(waiter), 1);
        reject(busy(waitMs));
      }, waitMs),
    };
    state.queue.push(waiter);
  });
  return release;
}

/** Imports running and waiting in this process (metrics, tests). */
export function importLoad(): { running: number; waiting: number } {
  return { running: state.running, waiting: state.queue.length };
}

/**
 * Runs `fn` with `count` connections of the import pool (1 or 2), taken together once this import
 * has its place. The connections are released (and the place given on) however `fn` ends.
 */
export async function withImportConnections<T>(count: 1 | 2, fn: (clients: pg.PoolClient[]) => Promise<T>): Promise<T> {
  const release = await takePlace();
  const clients: pg.PoolClient[] = [];
  // a connection dropped mid-import rejects its pending query; without a listener the same failure
  // would also be emitted as an 'error' event and crash the process
  const onError = () => {};
  try {
    const taken = await Promise.allSettled(Array.from({ length: count }, () => getImportPool().connect()));
    for (const t of taken) if (t.status === "fulfilled") clients.push(t.value);
    const failed = taken.find((t): t is PromiseRejectedResult => t.status === "rejected");
    if (failed) throw failed.reason;
    for (const c of clients) c.on("error", onError);
    return await fn(clients);
  } finally {
    for (const c of clients) {
      c.off("error", onError);
      c.release();
    }
    release();
  }
}

/** One import transaction on an import connection: all or nothing, never re-run (it consumes a stream). */
export function inImportTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withImportConnections(1, async ([client]) => {
    await client!.query("BEGIN");
    try {
      const out = await fn(client!);
      await client!.query("COMMIT");
      return out;
    } catch (err) {
      await client!.query("ROLLBACK").catch(() => {});
      throw err;
    }
  });
}
