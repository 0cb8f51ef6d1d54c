// Mutating routes are rate-limited per caller through authorize(): 429 with Retry-After.
import { describe, expect, it } from "vitest";
import { authorize } from "@/lib/auth/authorize";
import { createApiKey } from "@/lib/auth/keys";
import { AppError } from "@/lib/errors";
import { useTestDatabase } from "../helpers/db";

process.env.BATCHBOARD_RATE_LIMIT_PER_SECOND = "2"; // a burst of 4, refilled at 2/s
useTestDatabase();

describe("per-caller rate limit on mutations", () => {
  it("answers 429 with Retry-After past the burst, per key, and never limits reads", async () => {
    const a = (await createApiKey({ name: "a", scopes: ["write"] })).key;
    const b = (await createApiKey({ name: "b", scopes: ["write"] })).key;
    const post = (key: string) =>
      authorize(new Request("http://localhost/api/batches", { method: "POST", headers: { authorization: `Bearer ${key}` } }), "write");
    const outcomes: (number | "ok")[] = [];
    for (let i = 0; i < 30; i++) {
      try {
        await post(a);
        outcomes.push("ok");
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        outcomes.push(err.status);
        expect(err.code).toBe("rate_limited");
        expect(Number(err.headers["Retry-After"])).toBeGreaterThanOrEqual(1);
      }
    }
    expect(outcomes.filter((o) => o === "ok").length).toBeLessThan(30);
    expect(outcomes).toContain(429);
    // another key has its own bucket; reads are not limited
    await expect(post(b)).resolves.toMatchObject({ name: "b" });
    for (let i = 0; i < 20; i++) {
      await authorize(new Request("http://localhost/api/batches", { headers: { authorization: `Bearer ${a}` } }), "read");
    }
  });
});
