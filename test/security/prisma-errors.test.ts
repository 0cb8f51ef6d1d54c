// Errors raised through Prisma carry the driver's SQLSTATE inside Prisma's own error (P2010 and
// friends): a statement timeout there must still answer 503 unavailable, and a deadlock be retried.
import { describe, expect, it } from "vitest";
import { getPrisma } from "@/lib/db/client";
import { unavailableFrom } from "@/lib/db/errors";
import { retryOnDeadlock } from "@/lib/db/tx";
import { useTestDatabase } from "../helpers/db";

process.env.BATCHBOARD_DB_STATEMENT_TIMEOUT_MS = "300";
useTestDatabase();

describe("database errors through Prisma", () => {
  it("a statement timeout is unavailable (503), not a 500", async () => {
    const err = await getPrisma().$queryRaw`SELECT pg_sleep(2)::text`.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const mapped = unavailableFrom(err);
    expect(mapped?.code).toBe("unavailable");
    expect(mapped?.headers).toMatchObject({ "Retry-After": "1" });
  });

  it("a serialization failure is retried", async () => {
    let calls = 0;
    const out = await retryOnDeadlock(async () => {
      calls++;
      if (calls === 1) await getPrisma().$executeRaw`DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$`;
      return "done";
    });
    expect(out).toBe("done");
    expect(calls).toBe(2);
  });
});
