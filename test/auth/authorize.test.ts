import { afterEach, describe, expect, it } from "vitest";
import { authorize } from "@/lib/auth/authorize";
import { ensureAdminAccess } from "@/lib/auth/bootstrap";
import { countActiveKeys, createApiKey, hashKey, listApiKeys, revokeApiKey } from "@/lib/auth/keys";
import { RateLimiter } from "@/lib/auth/rate-limit";
import { getPool } from "@/lib/db/client";
import { SESSION_COOKIE, consumeSignInToken, createSession, createSignInToken, endSession, readSession } from "@/lib/auth/session";
import { AppError } from "@/lib/errors";
import { useTestDatabase } from "../helpers/db";

useTestDatabase();

function req(method: string, headers: Record<string, string> = {}) {
  return new Request("http://localhost:3000/api/batches", { method, headers });
}

async function errorOf(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error("expected an AppError");
}

describe("auth", () => {
  afterEach(() => {
    delete process.env.BATCHBOARD_ADMIN_TOKEN;
  });

  it("stores keys hashed, verifies them by bearer, enforces nested scopes, and forgets revoked keys", async () => {
    const { key: readKey, info } = await createApiKey({ name: "reader", scopes: ["read"] });
    const { key: writeKey } = await createApiKey({ name: "writer", scopes: ["write"] });
    const listed = await listApiKeys();
    expect(listed.map((k) => k.name)).toEqual(expect.arrayContaining(["reader", "writer"]));
    expect(JSON.stringify(listed)).not.toContain(readKey);

    const reader = await authorize(req("GET", { authorization: `Bearer ${readKey}` }), "read");
    expect(reader).toMatchObject({ id: info.id, scopes: ["read"], via: "bearer" });
    expect((await errorOf(authorize(req("POST", { authorization: `Bearer ${readKey}` }), "write"))).status).toBe(403);
    await expect(authorize(req("POST", { authorization: `Bearer ${writeKey}` }), "write")).resolves.toMatchObject({ name: "writer" });
    await expect(authorize(req("GET", { authorization: `Bearer ${writeKey}` }), "read")).resolves.toBeTruthy();
    expect((await errorOf(authorize(req("POST", { authorization: `Bearer ${writeKey}` }), "admin"))).status).toBe(403);

    await revokeApiKey(info.id);
    expect((await errorOf(authorize(req("GET", { authorization: `Bearer ${readKey}` }), "read"))).status).toBe(401);
  });

  it("answers 401 without credentials or with a malformed or unknown key", async () => {
    const missing = await errorOf(authorize(req("GET"), "read"));
    expect(missing.status).toBe(401);
    expect(missing.headers["WWW-Authenticate"]).toContain("Bearer");
    expect((await errorOf(authorize(req("GET", { authorization: "Basic abc" }), "read"))).status).toBe(401);
    expect((await errorOf(authorize(req("GET", { authorization: "Bearer bb_nope_nope" }), "read"))).status).toBe(401);
  });

  it("accepts BATCHBOARD_ADMIN_TOKEN as an admin key", async () => {
    process.env.BATCHBOARD_ADMIN_TOKEN = "an-admin-token-of-some-length";
    await expect(authorize(req("POST", { authorization: "Bearer an-admin-token-of-some-length" }), "admin")).resolves.toMatchObject({
      id: "admin-token",
      // what the header shows and an answer records: a name for people, not the variable's
      name: "admin token",
    });
    expect((await errorOf(authorize(req("GET", { authorization: "Bearer an-admin-token-of-some-lengtX" }), "read"))).status).toBe(401);
  });

  it("keeps sessions on the server, rejects forged, expired or ended ones, and refuses cross-site mutations by cookie", async () => {
    const { info } = await createApiKey({ name: "dash", scopes: ["write"] });
    const value = await createSession(info.id);
    expect(await readSession(value)).toMatchObject({ id: info.id, via: "session" });
    expect(await readSession(`${value.slice(0, -4)}AAAA`)).toBeNull();
    const expired = await createSession(info.id);
    await getPool().query(`UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, [hashKey(expired)]);
    expect(await readSession(expired)).toBeNull();
    const ended = await createSession(info.id);
    await endSession(ended);
    expect(await readSession(ended)).toBeNull();

    const cookie = `${SESSION_COOKIE}=${value}`;
    await expect(authorize(req("GET", { cookie }), "read")).resolves.toMatchObject({ via: "session" });
    await expect(authorize(req("POST", { cookie, "sec-fetch-site": "same-origin" }), "write")).resolves.toBeTruthy();
    await expect(authorize(req("POST", { cookie, origin: "http://localhost:3000", host: "localhost:3000" }), "write")).resolves.toBeTruthy();
    expect((await errorOf(authorize(req("POST", { cookie, "sec-fetch-site": "cross-site" }), "write"))).status).toBe(403);
    expect((await errorOf(authorize(req("POST", { cookie, origin: "https://evil.example", host: "localhost:3000" }), "write"))).status).toBe(403);
    expect((await errorOf(authorize(req("POST", { cookie }), "write"))).status).toBe(403);
  });

  it("one-time sign-in tokens work once", async () => {
    const token = await createSignInToken("key_x");
    expect(await consumeSignInToken(token)).toBe("key_x");
    expect(await consumeSignInToken(token)).toBeNull();
    expect(await consumeSignInToken("made-up")).toBeNull();
  });

  it("creates the first admin key once, and prints a one-time sign-in URL", async () => {
    const before = await countActiveKeys();
    for (const k of await listApiKeys()) await revokeApiKey(k.id);
    expect(await countActiveKeys()).toBe(0);
    const lines: string[] = [];
    await Promise.all([ensureAdminAccess("http://localhost:3000", (l) => lines.push(l)), ensureAdminAccess("http://localhost:3000", (l) => lines.push(l))]);
    expect(await countActiveKeys()).toBe(1);
    const url = lines.find((l) => l.includes("/api/auth/one-time?token="));
    expect(url, lines.join("\n")).toBeDefined();
    const token = /token=(\S+)/.exec(url!)![1]!;
    const keyId = await consumeSignInToken(token);
    expect((await listApiKeys()).find((k) => k.id === keyId)?.scopes).toEqual(["admin"]);
    expect(before).toBeGreaterThanOrEqual(0);
  });

  it("rate-limits per caller with a Retry-After", () => {
    const limiter = new RateLimiter(2, 3);
    const now = 1_000_000;
    expect([1, 2, 3].map(() => limiter.take("a", now).ok)).toEqual([true, true, true]);
    const denied = limiter.take("a", now);
    expect(denied).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(limiter.take("b", now).ok).toBe(true);
    expect(limiter.take("a", now + 600).ok).toBe(true);
  });
});
