// Screenshots of every page in both themes (e2e/screenshots/), and the states a user can land in.
import { expect, test } from "@playwright/test";
import { createBatch, createDataset, inlineRecords, unique } from "../fixtures";
import { setTheme, snap } from "./helpers";

test("every page renders in light and dark", async ({ page, request }) => {
  // 18 pages, each photographed in light and dark: about 30 s on an idle machine, 60-110 s on a loaded one
  test.setTimeout(150_000);
  const ds = await createDataset(request, inlineRecords(45, "s"), unique("screens"));
  const running = await createBatch(request, {
    flow: "chaos",
    name: unique("screens-chaos"),
    dataset: ds.id,
    parameters: { failure_rate: 0.3, delay_ms: 800, cost_per_item: 0.002 },
    max_retries: 0,
    max_cost: 1,
    concurrency: 3,
  });
  await createBatch(request, { flow: "review", name: unique("screens-review"), records: inlineRecords(2, "q"), interactive: true });
  const pages: [string, string, string][] = [
    ["batches", "/batches", "Batches"],
    ["batch-detail", `/batches/${running.id}`, ""],
    ["new-batch", "/batches/new", "New batch"],
    ["inbox-page", "/inbox", "Inbox"],
    ["datasets-page", "/datasets", "Datasets"],
    ["dataset-page", `/datasets/${ds.id}`, ""],
    ["flows", "/flows", "Flows"],
    ["workers", "/workers", "Workers"],
    ["not-found", "/no/such/page", "Page not found"],
  ];
  for (const theme of ["light", "dark"] as const) {
    await page.goto("/batches");
    await setTheme(page, theme);
    for (const [name, url, heading] of pages) {
      await page.goto(url);
      await expect(page.locator("html")).toHaveAttribute("data-theme", theme);
      if (heading) await expect(page.getByRole("heading", { level: 1, name: heading })).toBeVisible();
      else await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
      await expect(page.getByText(/^Loading/)).toHaveCount(0);
      await snap(page, `${name}-${theme}`);
    }
  }
});

test("the theme choice sets data-theme and remembers it", async ({ page }) => {
  await page.goto("/flows");
  const html = page.locator("html");
  const theme = page.getByRole("combobox", { name: "Theme" });
  await theme.selectOption("dark");
  await expect(html).toHaveAttribute("data-theme", "dark");
  await page.reload();
  await expect(html).toHaveAttribute("data-theme", "dark");
  await expect(theme).toHaveValue("dark");
  await theme.selectOption("light");
  await expect(html).toHaveAttribute("data-theme", "light");
});

test("an unreachable API shows an error state, not a blank page", async ({ page }) => {
  await page.route("**/api/**", (route) => route.abort("connectionrefused"));
  await page.goto("/batches");
  await expect(page.getByRole("heading", { name: "API unreachable" })).toBeVisible();
  await expect(page.getByRole("button", { name: "Retry" })).toBeVisible();
  await snap(page, "api-unreachable");
});

test("a 401 from the API asks the user to sign in", async ({ page }) => {
  await page.route("**/api/batches?**", (route) =>
    route.fulfill({
      status: 401,
      contentType: "application/json",
      body: JSON.stringify({ error: { code: "unauthorized", message: "an API key or a session is required", details: [] } }),
    }),
  );
  await page.goto("/batches");
  await expect(page.getByRole("heading", { name: "Sign in required" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Sign in" })).toHaveAttribute("href", "/signin");
});
