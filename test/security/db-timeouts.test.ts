// The pools' time limits: a request that finds no free connection within BATCHBOARD_DB_CONNECT_TIMEOUT_MS
// is answered 503 `unavailable` (with Retry-After), never left hanging; each role's sessions start with
// its statement_timeout and idle_in_transaction_session_timeout, so a stuck transaction cannot hold a
// connection (and its locks) for ever.
import { describe, expect, it } from "vitest";
import { getImportPool, getPool, transaction } from "@/lib/db/client";
import { unavailableFrom } from "@/lib/db/errors";
import { useTestDatabase } from "../helpers/db";
import { call } from "./call";

process.env.BATCHBOARD_AUTH = "off";
process.env.BATCHBOARD_DB_POOL_SIZE = "2";
process.env.BATCHBOARD_DB_CONNECT_TIMEOUT_MS = "300";
process.env.BATCHBOARD_DB_STATEMENT_TIMEOUT_MS = "1500";
process.env.BATCHBOARD_DB_IDLE_IN_TRANSACTION_MS = "1000";
useTestDatabase();

async function within<T>(ms: number, p: Promise<T>): Promise<T | "no answer"> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<"no answer">((r) => (timer = setTimeout(() => r("no answer"), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe("database time limits", () => {
  it("answers 503 unavailable with Retry-After when no connection comes free in time, then recovers", async () => {
    const held = await Promise.all([getPool().connect(), getPool().connect()]);
    try {
      const res = await within(10_000, call("GET", "/api/batches"));
      expect(res).not.toBe("no answer");
      if (res === "no answer") return;
      expect(res.status).toBe(503);
      expect(res.json.error.code).toBe("unavailable");
      expect(res.json.error.message).toMatch(/busy/);
      expect(res.headers.get("retry-after")).toBe("1");
      // health asks on a connection of its own, and reports the pool's load
      const health = await call("GET", "/api/health");
      expect(health.status).toBe(200);
      expect(health.json.pool).toMatchObject({ size: 2, in_use: 2 });
    } finally {
      for (const c of held) c.release();
    }
    expect((await call("GET", "/api/batches")).status).toBe(200);
  });

  it("answers 503 unavailable for reads through Prisma too (API keys, workers), then recovers", async () => {
    const held = await Promise.all([getPool().connect(), getPool().connect()]);
    try {
      for (const pattern of ["/api/keys", "/api/workers"]) {
        const res = await within(10_000, call("GET", pattern));
        expect(res, pattern).not.toBe("no answer");
        if (res === "no answer") return;
        expect(res.status, pattern).toBe(503);
        expect(res.json.error.code, pattern).toBe("unavailable");
        expect(res.headers.get("retry-after"), pattern).toBe("1");
      }
    } finally {
      for (const c of held) c.release();
    }
    expect((await call("GET", "/api/keys")).status).toBe(200);
  });

  it("a Prisma transaction that finds no free connection is unavailable too, not Prisma's own timeout", async () => {
    const held = await Promise.all([getPool().connect(), getPool().connect()]);
    try {
      const err = await within(10_000, transaction(async (tx) => tx.apiKey.count()).then(() => null, (e: unknown) => e));
      expect(err).not.toBe("no answer");
      expect(unavailableFrom(err)?.code).toBe("unavailable");
    } finally {
      for (const c of held) c.release();
    }
    expect(await transaction(async (tx) => tx.apiKey.count())).toBe(0);
  });

  it("starts API sessions with the API statement timeout and the idle-in-transaction timeout", async () => {
    const { rows } = await getPool().query<{ s: string; i: string; app: string }>(
      `SELECT current_setting('statement_timeout') AS s, current_setting('idle_in_transaction_session_timeout') AS i,
              current_setting('application_name') AS app`,
    );
    expect(rows[0]).toEqual({ s: "1500ms", i: "1s", app: "batchboard api" });
    await expect(getPool().query("SELECT pg_sleep(3)")).rejects.toMatchObject({ code: "57014" });
  });

  it("starts import sessions with no statement timeout: a long COPY is not cut off", async () => {
    const { rows } = await getImportPool().query<{ s: string; i: string }>(
      `SELECT current_setting('statement_timeout') AS s, current_setting('idle_in_transaction_session_timeout') AS i`,
    );
    expect(rows[0]).toEqual({ s: "0", i: "1s" });
    await getImportPool().query("SELECT pg_sleep(2)");
  });

  it("ends a transaction left idle: its connection and locks come back", async () => {
    const client = await getPool().connect();
    client.on("error", () => {}); // the server ends the session; pg reports it here too
    try {
      await client.query("BEGIN");
      await client.query("SELECT 1");
      await new Promise((r) => setTimeout(r, 2_000));
      await expect(client.query("SELECT 1")).rejects.toThrow();
    } finally {
      client.release(true);
    }
  });
});
