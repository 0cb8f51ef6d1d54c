// Mutating routes are rate-limited per caller through authorize(): 429 with Retry-After. The clock
// (Date) is frozen and moved by hand, so the counts are exact whatever the machine's load.
import { afterEach, describe, expect, it, vi } from "vitest";
import { authorize } from "@/lib/auth/authorize";
import { createApiKey } from "@/lib/auth/keys";
import { AppError } from "@/lib/errors";
import { useTestDatabase } from "../helpers/db";

process.env.BATCHBOARD_RATE_LIMIT_PER_SECOND = "2"; // a burst of 4, refilled at 2/s
useTestDatabase();

afterEach(() => {
  vi.useRealTimers();
});

const post = (key: string) =>
  authorize(new Request("http://localhost/api/batches", { method: "POST", headers: { authorization: `Bearer ${key}` } }), "write");

/** Sends `n` mutations now; how many passed, and the Retry-After of the refused ones. */
async function burst(key: string, n: number) {
  let ok = 0;
  const retryAfter: number[] = [];
  for (let i = 0; i < n; i++) {
    try {
      await post(key);
      ok++;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      expect(err.status).toBe(429);
      expect(err.code).toBe("rate_limited");
      retryAfter.push(Number(err.headers["Retry-After"]));
    }
  }
  return { ok, retryAfter };
}

describe("per-caller rate limit on mutations", () => {
  it("allows the burst, then the configured rate, per key, and never limits reads", async () => {
    const a = (await createApiKey({ name: "a", scopes: ["write"] })).key;
    const b = (await createApiKey({ name: "b", scopes: ["write"] })).key;
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2030-01-01T00:00:00Z") });

    // a full bucket: exactly the burst (twice the rate), then 429 with a Retry-After of 1 s
    const first = await burst(a, 30);
    expect(first.ok).toBe(4);
    expect(first.retryAfter).toEqual(Array(26).fill(1));

    // one second refills exactly the rate
    vi.setSystemTime(Date.now() + 1000);
    expect((await burst(a, 10)).ok).toBe(2);

    // a long pause refills the burst, never more
    vi.setSystemTime(Date.now() + 60_000);
    expect((await burst(a, 10)).ok).toBe(4);

    // another key has its own bucket; reads are not limited
    expect((await burst(b, 10)).ok).toBe(4);
    for (let i = 0; i < 20; i++) {
      await authorize(new Request("http://localhost/api/batches", { headers: { authorization: `Bearer ${a}` } }), "read");
    }
  });
});
