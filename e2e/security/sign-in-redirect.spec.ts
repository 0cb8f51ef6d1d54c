// Sign-in in the browser against the server with authentication on: `next` never leaves the origin,
// whatever the URL parser makes of it.
import { expect, test, type Page } from "@playwright/test";
import { AUTH_PORT, E2E_ADMIN_TOKEN } from "../../playwright.config";

const base = `http://localhost:${AUTH_PORT}`;
test.use({ baseURL: base });

async function signIn(page: Page, next: string) {
  await page.goto(`/signin?next=${next}`);
  await page.getByLabel("API key").fill(E2E_ADMIN_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
}

for (const next of ["/%5C127.0.0.1:4656/x", "/%09/127.0.0.1:4656/x", "%2F%2F127.0.0.1:4656/x", "https://127.0.0.1:4656/x", "/%5C%5C127.0.0.1:4656/x", "javascript:alert(1)"]) {
  test(`after sign-in, next=${next} stays on the dashboard's origin`, async ({ page }) => {
    await signIn(page, next);
    await expect(page).toHaveURL(`${base}/batches`);
    await expect(page.getByRole("heading", { level: 1, name: "Batches" })).toBeVisible();
  });
}

test("after sign-in, a same-origin next is followed", async ({ page }) => {
  await signIn(page, encodeURIComponent("/datasets?limit=5"));
  await expect(page).toHaveURL(`${base}/datasets?limit=5`);
});
