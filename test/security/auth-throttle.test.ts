// Failed authentication is throttled per client address: wrong API keys, sign-ins and one-time
// links, past the limit in a window, are answered 429 before any key is checked, while other
// addresses go on; the window ends. The address is the socket's (the header the server sets),
// X-Forwarded-For only behind a trusted proxy.
import { afterEach, describe, expect, it } from "vitest";
import { CLIENT_ADDRESS_HEADER } from "@/lib/auth/client-address";
import { createApiKey } from "@/lib/auth/keys";
import { createSignInToken } from "@/lib/auth/session";
import { getPool } from "@/lib/db/client";
import { waitFor } from "@/test/support/wait";
import { useTestDatabase } from "../helpers/db";
import { call, isErrorBody } from "./call";

useTestDatabase();

const from = (address: string, extra: Record<string, string> = {}) => ({ [CLIENT_ADDRESS_HEADER]: address, ...extra });
const list = (address: string, key: string, extra: Record<string, string> = {}) =>
  call("GET", "/api/batches", { headers: from(address, { authorization: `Bearer ${key}`, ...extra }) });

async function lastUsed(id: string): Promise<Date | null> {
  const { rows } = await getPool().query<{ last_used_at: Date | null }>(`SELECT last_used_at FROM api_keys WHERE id = $1`, [id]);
  return rows[0]!.last_used_at;
}

describe("failed authentication is throttled per client address", () => {
  afterEach(() => {
    for (const name of ["BATCHBOARD_AUTH_FAILURE_LIMIT", "BATCHBOARD_AUTH_FAILURE_WINDOW_MS", "BATCHBOARD_TRUST_PROXY"]) delete process.env[name];
  });

  it("answers 429 with Retry-After after 10 wrong Bearer keys, checks no key meanwhile, and lets other addresses in", async () => {
    const { key, info } = await createApiKey({ name: "right", scopes: ["read"] });
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await list("203.0.113.7", `bb_wrong_${i}`)).status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.slice(10).every((s) => s === 429)).toBe(true);

    const refused = await list("203.0.113.7", key);
    expect(refused.status).toBe(429);
    expect(isErrorBody(refused.json)).toBe(true);
    expect(refused.json.error.code).toBe("rate_limited");
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // the right key was not even looked up: its last use is still unset
    expect(await lastUsed(info.id)).toBeNull();

    const other = await list("198.51.100.20", key);
    expect(other.status).toBe(200);
    expect(await lastUsed(info.id)).not.toBeNull();
  });

  it("counts wrong sign-ins and wrong one-time links the same way", async () => {
    const { key, info } = await createApiKey({ name: "dash", scopes: ["read"] });
    const signIn = (address: string, k: string) =>
      call("POST", "/api/auth/signin", { body: { key: k }, headers: from(address, { "sec-fetch-site": "same-origin" }) });
    const oneTime = (address: string, token: string) => call("GET", "/api/auth/one-time", { query: `token=${token}`, headers: from(address) });

    const signIns: number[] = [];
    for (let i = 0; i < 30; i++) signIns.push((await signIn("192.0.2.1", `bb_nope_${i}`)).status);
    expect(signIns.filter((s) => s === 401)).toHaveLength(10);
    expect(signIns.slice(10).every((s) => s === 429)).toBe(true);
    expect((await signIn("192.0.2.1", key)).status).toBe(429);
    expect((await signIn("192.0.2.2", key)).status).toBe(200);

    const links: number[] = [];
    for (let i = 0; i < 30; i++) links.push((await oneTime("192.0.2.3", `not-a-token-${i}`)).status);
    expect(links.filter((s) => s === 401)).toHaveLength(10);
    const limited = await oneTime("192.0.2.3", "still-not-a-token");
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe("rate_limited");
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
    // a real link is not spent by a throttled address: it still works from elsewhere
    const token = await createSignInToken(info.id);
    expect((await oneTime("192.0.2.3", token)).status).toBe(429);
    expect((await oneTime("192.0.2.4", token)).status).toBe(303);
  });

  it("lets the address in again once its window has ended", async () => {
    process.env.BATCHBOARD_AUTH_FAILURE_LIMIT = "3";
    process.env.BATCHBOARD_AUTH_FAILURE_WINDOW_MS = "1500";
    const { key } = await createApiKey({ name: "patient", scopes: ["read"] });
    for (let i = 0; i < 3; i++) expect((await list("203.0.113.9", "bb_wrong_key")).status).toBe(401);
    expect((await list("203.0.113.9", key)).status).toBe(429);
    await waitFor("the window to end", async () => (await list("203.0.113.9", key)).status === 200, 10_000, 100);
    // a new window: the count starts again
    for (let i = 0; i < 3; i++) expect((await list("203.0.113.9", "bb_wrong_key")).status).toBe(401);
    expect((await list("203.0.113.9", "bb_wrong_key")).status).toBe(429);
  });

  it("ignores X-Forwarded-For unless BATCHBOARD_TRUST_PROXY is set, then reads the entry the proxy appended", async () => {
    const rotating = async (socket: string, forwarded: (i: number) => string, n: number) => {
      const statuses: number[] = [];
      for (let i = 0; i < n; i++) statuses.push((await list(socket, "bb_wrong_key", { "x-forwarded-for": forwarded(i) })).status);
      return statuses;
    };
    // the client's own header does not buy a fresh count
    const spoofed = await rotating("203.0.113.50", (i) => `10.0.0.${i}`, 15);
    expect(spoofed.filter((s) => s === 429)).toHaveLength(5);

    process.env.BATCHBOARD_TRUST_PROXY = "1";
    // behind the proxy every request comes from its socket; the proxy's appended entry tells them apart
    const proxied = await rotating("127.0.0.1", (i) => `10.0.1.${i}`, 15);
    expect(proxied.every((s) => s === 401)).toBe(true);
    // a client-written first entry does not: the last one is what the proxy saw
    const prefixed = await rotating("127.0.0.1", (i) => `10.9.9.${i}, 198.51.100.77`, 15);
    expect(prefixed.filter((s) => s === 429)).toHaveLength(5);
  });

  it("gives an IPv6 client one count for its /64", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await list(`2001:db8:1:2::${i.toString(16)}`, "bb_wrong_key")).status);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    expect((await list("2001:db8:1:3::1", "bb_wrong_key")).status).toBe(401);
    // an IPv4 client seen on a dual-stack socket counts as its IPv4 address
    for (let i = 0; i < 10; i++) await list("::ffff:192.0.2.99", "bb_wrong_key");
    expect((await list("192.0.2.99", "bb_wrong_key")).status).toBe(429);
  });
});

describe("with BATCHBOARD_AUTH=off", () => {
  afterEach(() => {
    delete process.env.BATCHBOARD_AUTH;
    delete process.env.BATCHBOARD_TRUST_PROXY;
    delete process.env.BATCHBOARD_RATE_LIMIT_PER_SECOND;
  });

  let n = 0;
  const create = (headers: Record<string, string>) =>
    call("POST", "/api/datasets", { headers, rawBody: JSON.stringify({ name: `posted-${++n}`, records: ["a"] }) });

  it("refuses a browser's cross-origin mutation (a no-cors text/plain POST) but not its own pages or a script", async () => {
    process.env.BATCHBOARD_AUTH = "off";
    const foreign: Record<string, string>[] = [
      { origin: "http://localhost:4656", host: "localhost:3000", "content-type": "text/plain" },
      { origin: "http://localhost:4656", host: "localhost:3000", "sec-fetch-site": "same-site", "content-type": "text/plain" },
      { origin: "null", host: "localhost:3000", "content-type": "text/plain" },
      { "sec-fetch-site": "cross-site", "content-type": "text/plain" },
    ];
    for (const headers of foreign) {
      const res = await create(headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(isErrorBody(res.json)).toBe(true);
      expect(res.json.error.code).toBe("forbidden");
    }
    const { rows } = await getPool().query(`SELECT count(*)::int AS n FROM datasets`);
    const before = rows[0].n;
    // the dashboard, and clients that are not browsers, still may
    expect((await create({ "sec-fetch-site": "same-origin", "content-type": "application/json" })).status).toBe(201);
    expect((await create({ origin: "http://localhost:3000", host: "localhost:3000", "content-type": "application/json" })).status).toBe(201);
    expect((await create({ "content-type": "application/json" })).status).toBe(201);
    const after = (await getPool().query(`SELECT count(*)::int AS n FROM datasets`)).rows[0].n;
    expect(after).toBe(before + 3);
  });

  it("does not let X-Forwarded-For pick the rate-limit key unless a proxy is trusted", async () => {
    process.env.BATCHBOARD_AUTH = "off";
    process.env.BATCHBOARD_RATE_LIMIT_PER_SECOND = "1";
    const burst = async (socket: string, n: number) => {
      const statuses: number[] = [];
      for (let i = 0; i < n; i++) {
        statuses.push((await call("POST", "/api/batches", { headers: from(socket, { "x-forwarded-for": `10.2.0.${i}` }), body: {} })).status);
      }
      return statuses;
    };
    // burst of 2 per caller: rotating the header does not reset it
    expect((await burst("203.0.113.60", 6)).filter((s) => s === 429).length).toBeGreaterThanOrEqual(3);
    process.env.BATCHBOARD_TRUST_PROXY = "1";
    expect((await burst("127.0.0.1", 6)).filter((s) => s === 429)).toHaveLength(0);
  });
});
