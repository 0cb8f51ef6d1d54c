// Sessions against the server with authentication on: one ended by signing out or by revoking its key
// is over on the server, not just in the browser; sign-out is a mutation like any other (CSRF).
import { expect, test } from "@playwright/test";
import { AUTH_PORT, E2E_ADMIN_TOKEN } from "../../playwright.config";

const base = `http://localhost:${AUTH_PORT}`;
test.use({ baseURL: base });

test("signing out ends the session on the server: the old cookie no longer works", async ({ page, playwright }) => {
  await page.goto("/signin");
  await page.getByLabel("API key").fill(E2E_ADMIN_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(`${base}/batches`);
  const cookie = (await page.context().cookies()).find((c) => c.name === "bb_session")!;
  const api = await playwright.request.newContext({ baseURL: base });
  try {
    expect((await api.get("/api/batches", { headers: { cookie: `bb_session=${cookie.value}` } })).status()).toBe(200);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/signin/);
    const replayed = await api.get("/api/batches", { headers: { cookie: `bb_session=${cookie.value}` } });
    expect(replayed.status()).toBe(401);
  } finally {
    await api.dispose();
  }
});

test("sign-out from another site is refused like any cross-site mutation, and the session lives on", async ({ page, playwright }) => {
  const signedIn = await page.request.post("/api/auth/signin", { data: { key: E2E_ADMIN_TOKEN } });
  expect(signedIn.status()).toBe(200);
  const cookie = (await page.context().cookies()).find((c) => c.name === "bb_session")!;
  const api = await playwright.request.newContext({ baseURL: base });
  try {
    const forged = await api.post("/api/auth/signout", { headers: { cookie: `bb_session=${cookie.value}`, origin: "https://evil.example" } });
    expect(forged.status()).toBe(403);
    expect((await api.get("/api/batches", { headers: { cookie: `bb_session=${cookie.value}` } })).status()).toBe(200);
  } finally {
    await api.dispose();
  }
});

test("revoking an API key ends the sessions signed in with it", async ({ playwright }) => {
  const admin = { authorization: `Bearer ${E2E_ADMIN_TOKEN}` };
  const api = await playwright.request.newContext({ baseURL: base });
  try {
    const created = await api.post("/api/keys", { headers: admin, data: { name: "to revoke", scopes: ["read"] } });
    const { key, id } = (await created.json()) as { key: string; id: string };
    const signedIn = await api.post("/api/auth/signin", { data: { key } });
    const cookie = /bb_session=([^;]+)/.exec(signedIn.headers()["set-cookie"] ?? "")![1]!;
    expect((await api.get("/api/batches", { headers: { cookie: `bb_session=${cookie}` } })).status()).toBe(200);
    expect((await api.delete(`/api/keys/${id}`, { headers: admin })).status()).toBe(200);
    expect((await api.get("/api/batches", { headers: { cookie: `bb_session=${cookie}` } })).status()).toBe(401);
  } finally {
    await api.dispose();
  }
});
