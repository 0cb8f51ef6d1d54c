// Dashboard sessions end on the server: signing out, revoking the key signed in with, or replacing
// BATCHBOARD_ADMIN_TOKEN ends them for good (the same cookie replayed is refused), and sign-out is a
// mutation like any other: refused from another site.
import { afterEach, describe, expect, it } from "vitest";
import { createApiKey } from "@/lib/auth/keys";
import { createSignInToken } from "@/lib/auth/session";
import { useTestDatabase } from "../helpers/db";
import { call } from "./call";

useTestDatabase();

const SAME_ORIGIN = { "sec-fetch-site": "same-origin" };

async function signIn(key: string): Promise<string> {
  const res = await call("POST", "/api/auth/signin", { body: { key }, headers: SAME_ORIGIN });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  const cookie = /bb_session=([^;]+)/.exec(res.headers.get("set-cookie") ?? "")?.[1];
  expect(cookie).toBeTruthy();
  return `bb_session=${cookie}`;
}

const listWith = async (cookie: string) => (await call("GET", "/api/batches", { headers: { cookie } })).status;
const createWith = async (cookie: string) =>
  (await call("POST", "/api/batches", { headers: { cookie, ...SAME_ORIGIN }, body: { flow: "echo", records: ["a"] } })).status;

describe("sessions", () => {
  afterEach(() => {
    delete process.env.BATCHBOARD_ADMIN_TOKEN;
  });

  it("signing out ends the session: the same cookie replayed is refused", async () => {
    const { key } = await createApiKey({ name: "dash", scopes: ["write"] });
    const cookie = await signIn(key);
    expect(await listWith(cookie)).toBe(200);
    expect(await createWith(cookie)).toBe(201);
    const out = await call("POST", "/api/auth/signout", { headers: { cookie, ...SAME_ORIGIN } });
    expect(out.status).toBe(200);
    expect(out.headers.get("set-cookie")).toMatch(/bb_session=;.*Max-Age=0/);
    expect(await listWith(cookie)).toBe(401);
    expect(await createWith(cookie)).toBe(401);
    // other sessions of the same key live on
    const other = await signIn(key);
    expect(await listWith(other)).toBe(200);
  });

  it("sign-out from another site is refused (CSRF) and the session lives on", async () => {
    const { key } = await createApiKey({ name: "dash", scopes: ["read"] });
    const cookie = await signIn(key);
    const foreign: Record<string, string>[] = [{ "sec-fetch-site": "cross-site" }, { origin: "https://evil.example", host: "localhost:3000" }, {}];
    for (const headers of foreign) {
      const res = await call("POST", "/api/auth/signout", { headers: { cookie, ...headers } });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.json.error.code).toBe("forbidden");
    }
    expect(await listWith(cookie)).toBe(200);
  });

  it("revoking the key ends the sessions signed in with it", async () => {
    const { key, info } = await createApiKey({ name: "revoked", scopes: ["read"] });
    const cookies = [await signIn(key), await signIn(key)];
    process.env.BATCHBOARD_ADMIN_TOKEN = "admin-token-for-the-revocation";
    const revoked = await call("DELETE", "/api/keys/[id]", { params: { id: info.id }, headers: { authorization: "Bearer admin-token-for-the-revocation" } });
    expect(revoked.status).toBe(200);
    for (const cookie of cookies) expect(await listWith(cookie)).toBe(401);
  });

  it("a new BATCHBOARD_ADMIN_TOKEN ends the sessions signed in with the old one", async () => {
    process.env.BATCHBOARD_ADMIN_TOKEN = "the-first-admin-token-0123";
    const cookie = await signIn("the-first-admin-token-0123");
    expect(await listWith(cookie)).toBe(200);
    process.env.BATCHBOARD_ADMIN_TOKEN = "the-second-admin-token-0123";
    expect(await listWith(cookie)).toBe(401);
    process.env.BATCHBOARD_ADMIN_TOKEN = "the-first-admin-token-0123";
    // a token put back does not revive them either: the sessions of a replaced token are gone
    expect(await listWith(cookie)).toBe(401);
    delete process.env.BATCHBOARD_ADMIN_TOKEN;
    const fresh = await signIn(await createApiKey({ name: "k", scopes: ["read"] }).then((k) => k.key));
    expect(await listWith(fresh)).toBe(200);
  });

  it("a session from the one-time sign-in link ends on sign-out too", async () => {
    const { info } = await createApiKey({ name: "first", scopes: ["admin"] });
    const token = await createSignInToken(info.id);
    const res = await call("GET", "/api/auth/one-time", { query: `token=${token}` });
    expect(res.status).toBe(303);
    const cookie = `bb_session=${/bb_session=([^;]+)/.exec(res.headers.get("set-cookie") ?? "")![1]}`;
    expect(await listWith(cookie)).toBe(200);
    expect((await call("POST", "/api/auth/signout", { headers: { cookie, ...SAME_ORIGIN } })).status).toBe(200);
    expect(await listWith(cookie)).toBe(401);
  });

  it("a made-up or tampered cookie is no session", async () => {
    const { key } = await createApiKey({ name: "t", scopes: ["read"] });
    const cookie = await signIn(key);
    expect(await listWith(`${cookie.slice(0, -2)}xx`)).toBe(401);
    expect(await listWith("bb_session=v2.made-up")).toBe(401);
  });
});
