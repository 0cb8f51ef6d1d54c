import { expect, test } from "@playwright/test";

test("the app shell opens and its navigation reaches every section", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/batches$/);
  const nav = page.getByRole("navigation", { name: "Main" });
  for (const label of ["Batches", "Compare", "Inbox", "Datasets", "Flows", "Workers"]) {
    await nav.getByRole("link", { name: label }).click();
    await expect(page).toHaveURL(new RegExp(`/${label.toLowerCase()}$`));
    await expect(page.getByRole("heading", { level: 1, name: label })).toBeVisible();
    await expect(nav.getByRole("link", { name: label })).toHaveAttribute("aria-current", "page");
  }
});

test("health reports the database and the applied migration", async ({ request }) => {
  const res = await request.get("/api/health");
  expect(res.status()).toBe(200);
  const body = await res.json();
  expect(body).toMatchObject({ status: "ok", database: "up" });
  expect(body.migration).toMatch(/^\d{14}_/);
});

test("pages carry security headers: CSP with frame-ancestors, nosniff", async ({ request }) => {
  const res = await request.get("/batches");
  const headers = res.headers();
  expect(headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  expect(headers["content-security-policy"]).toContain("object-src 'none'");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["x-frame-options"]).toBe("DENY");
});
