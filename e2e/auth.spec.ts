// Authentication in the browser and over HTTP, against the server started with BATCHBOARD_AUTH=on.
import { expect, test } from "@playwright/test";
import { AUTH_PORT, E2E_ADMIN_TOKEN } from "../playwright.config";

const base = `http://localhost:${AUTH_PORT}`;
test.use({ baseURL: base });

test("the API refuses anonymous callers and a key of too low a scope", async ({ request }) => {
  const anonymous = await request.get("/api/batches");
  expect(anonymous.status()).toBe(401);
  expect((await anonymous.json()).error.code).toBe("unauthorized");

  const created = await request.post("/api/keys", {
    headers: { authorization: `Bearer ${E2E_ADMIN_TOKEN}` },
    data: { name: "reader", scopes: ["read"] },
  });
  expect(created.status()).toBe(201);
  const { key } = (await created.json()) as { key: string };
  expect(key).toMatch(/^bb_/);

  expect((await request.get("/api/batches", { headers: { authorization: `Bearer ${key}` } })).status()).toBe(200);
  const write = await request.post("/api/batches", { headers: { authorization: `Bearer ${key}` }, data: { flow: "echo", records: ["a"] } });
  expect(write.status()).toBe(403);
  const listed = await request.get("/api/keys", { headers: { authorization: `Bearer ${E2E_ADMIN_TOKEN}` } });
  expect(JSON.stringify(await listed.json())).not.toContain(key);
});

test("signing in with a key sets an HttpOnly SameSite cookie and opens the dashboard; sign-out ends it", async ({ page, context }) => {
  await page.goto("/batches");
  await expect(page).toHaveURL(/\/signin\?next=%2Fbatches/);
  // signed out: no navigation, no one named
  await expect(page.getByRole("navigation", { name: "Main" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "New batch" })).toHaveCount(0);
  await expect(page.getByTestId("signed-in-as")).toHaveCount(0);
  await page.getByLabel("API key").fill("bb_wrong_key");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "unknown or revoked API key" })).toBeVisible();

  await page.getByLabel("API key").fill(E2E_ADMIN_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/batches$/);
  await expect(page.getByRole("heading", { level: 1, name: "Batches" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
  await expect(page.getByTestId("signed-in-as")).toHaveText("admin token");

  const cookie = (await context.cookies()).find((c) => c.name === "bb_session");
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax" });

  // a key created from the settings page is shown once
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByLabel("Name").fill("laptop");
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.getByTestId("new-key")).toHaveText(/^bb_/);
  await expect(page.getByRole("cell", { name: "laptop" })).toBeVisible();
  const laptopKey = (await page.getByTestId("new-key").textContent())!;

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/);
  expect((await context.cookies()).find((c) => c.name === "bb_session")).toBeUndefined();
  await expect(page.getByRole("navigation", { name: "Main" })).toHaveCount(0);

  // signed in with a key, the header names the key
  await page.getByLabel("API key").fill(laptopKey);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("signed-in-as")).toHaveText("laptop");
});

test("a cookie-authenticated mutation from another site is refused (CSRF)", async ({ page, playwright }) => {
  const signIn = await page.request.post("/api/auth/signin", { data: { key: E2E_ADMIN_TOKEN } });
  expect(signIn.status()).toBe(200);
  const cookie = (await page.context().cookies()).find((c) => c.name === "bb_session")!;
  const api = await playwright.request.newContext({ baseURL: base });
  const forged = await api.post("/api/batches", {
    headers: { cookie: `bb_session=${cookie.value}`, origin: "https://evil.example", "content-type": "application/json" },
    data: { flow: "echo", records: ["a"] },
  });
  expect(forged.status()).toBe(403);
  expect((await forged.json()).error.message).toContain("CSRF");
  const sameOrigin = await api.get("/api/batches", { headers: { cookie: `bb_session=${cookie.value}` } });
  expect(sameOrigin.status()).toBe(200);
  await api.dispose();
});
