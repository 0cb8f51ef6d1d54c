// Polling with a deadline, for tests and harnesses: wait for a condition, never a fixed sleep.

/**
 * Polls `fn` until it returns a truthy value and returns it. Errors count as "not yet" (the
 * database may be restarting); after `ms` it fails naming `what` and the last error.
 */
export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 20_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
