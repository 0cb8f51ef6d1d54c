// The dashboard a daily user needs: actions that say why they are off, the way to the Inbox, real 404s.
import { expect, test } from "@playwright/test";
import { createBatch, runEchoBatch, unique, waitUntil } from "../fixtures";
import { setTheme, snap } from "./helpers";

test("Retry failed is off, with the reason, when no job failed", async ({ page, request }) => {
  const batch = await runEchoBatch(request, 3, { name: unique("ui-nothing-failed") });
  expect(batch.progress.failed).toBe(0);
  await page.goto(`/batches/${batch.id}`);
  const retry = page.getByRole("button", { name: "Retry failed" });
  await expect(retry).toBeDisabled();
  await expect(retry).toHaveAttribute("title", /nothing to retry/);
  await snap(page, "daily-retry-disabled", { fullPage: false });
});

test("jobs waiting for an answer lead to the Inbox, filtered to their batch", async ({ page, request }) => {
  const records = ["a", "b", "c"].map((id) => ({ id: `${id}-${unique("wait")}`, text: `review me ${id}` }));
  const batch = await createBatch(request, { flow: "review", name: unique("ui-waits"), records, interactive: true, shuffle: false });
  // another batch's question must not show in the filtered Inbox
  const other = await createBatch(request, { flow: "review", name: unique("ui-waits-other"), records: [{ id: unique("o"), text: "other" }], interactive: true });
  for (const [id, n] of [
    [batch.id, 3],
    [other.id, 1],
  ] as const) {
    await waitUntil(async () => {
      const body = (await (await request.get(`/api/prompts?status=open&batch_id=${id}`)).json()) as { total: number };
      return body.total === n ? true : undefined;
    }, `${n} open prompts of ${id}`);
  }

  await page.goto(`/batches/${batch.id}`);
  const note = page.getByRole("note").filter({ hasText: "wait for an answer" });
  await expect(note).toHaveText("3 jobs wait for an answer — open the Inbox");
  await snap(page, "daily-inbox-link-light", { fullPage: false });
  await setTheme(page, "dark");
  await snap(page, "daily-inbox-link-dark", { fullPage: false });
  await setTheme(page, "light");
  await note.getByRole("link", { name: "open the Inbox" }).click();

  await expect(page).toHaveURL(new RegExp(`/inbox\\?batch=${batch.id}$`));
  const cards = page.getByRole("list", { name: "Open prompts" }).getByRole("article");
  await expect(cards).toHaveCount(3);
  for (const card of await cards.all()) await expect(card).toContainText(batch.id);
  await expect(page.getByRole("status").filter({ hasText: "Questions of batch" })).toContainText(batch.id);
  await snap(page, "daily-inbox-filtered");
  await page.getByRole("link", { name: "show every batch" }).click();
  await expect(page).toHaveURL(/\/inbox$/);
  await expect(cards.filter({ hasText: other.id })).toHaveCount(1);

  // a batch with no one waiting shows no such note
  const done = await runEchoBatch(request, 1);
  await page.goto(`/batches/${done.id}`);
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await expect(page.getByRole("note").filter({ hasText: "wait for an answer" })).toHaveCount(0);

  // leave no open questions behind for the Inbox specs
  for (const id of [batch.id, other.id]) expect((await request.post(`/api/batches/${id}/cancel`)).status()).toBe(200);
});

test("a new API key's secret has a Copy button that puts it on the clipboard", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.goto("/settings");
  await page.getByLabel("Name").fill(unique("copy-me"));
  await page.getByRole("button", { name: "Create key" }).click();
  const secret = (await page.getByTestId("new-key").textContent())!;
  expect(secret).toMatch(/^bb_/);
  await page.getByRole("button", { name: "Copy", exact: true }).click();
  await expect(page.getByRole("button", { name: "Copied" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  await snap(page, "daily-key-copied-light", { fullPage: false });
  await setTheme(page, "dark");
  await snap(page, "daily-key-copied-dark", { fullPage: false });
});

test("an unknown batch or dataset answers 404 and shows its not-found page", async ({ page, request }) => {
  expect((await request.get("/batches/batch_nope")).status()).toBe(404);
  expect((await request.get("/datasets/ds_nope")).status()).toBe(404);
  const known = await runEchoBatch(request, 1);
  expect((await request.get(`/batches/${known.id}`)).status()).toBe(200);

  const res = await page.goto("/batches/batch_nope");
  expect(res?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Batch not found" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Back to all batches" })).toBeVisible();
  const ds = await page.goto("/datasets/ds_nope");
  expect(ds?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Dataset not found" })).toBeVisible();
  await snap(page, "daily-dataset-not-found", { fullPage: false });
});

test("the System theme follows the browser's color scheme, is remembered and applies before paint", async ({ page }) => {
  const html = page.locator("html");
  const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.emulateMedia({ colorScheme: "light" });
  await page.goto("/flows");
  const theme = page.getByRole("combobox", { name: "Theme" });
  await theme.selectOption("system");
  await expect(html).not.toHaveAttribute("data-theme");
  expect(await page.evaluate(() => localStorage.getItem("batchboard-theme"))).toBe("system");
  const light = await bg();
  await page.emulateMedia({ colorScheme: "dark" });
  await expect.poll(bg).not.toBe(light);
  const dark = await bg();
  await snap(page, "daily-theme-system-dark", { fullPage: false });

  // remembered, and the stored choice wins over the system's from the first paint: the head script
  // has set data-theme before any of the page's own scripts run
  await theme.selectOption("light");
  await page.addInitScript(() => {
    document.addEventListener("DOMContentLoaded", () => {
      (window as unknown as { themeAtLoad: string | undefined }).themeAtLoad = document.documentElement.dataset.theme;
    });
  });
  await page.reload();
  expect(await page.evaluate(() => (window as unknown as { themeAtLoad: string | undefined }).themeAtLoad)).toBe("light");
  await expect(theme).toHaveValue("light");
  expect(await bg()).toBe(light);
  await theme.selectOption("system");
  await page.reload();
  await expect(theme).toHaveValue("system");
  await expect(html).not.toHaveAttribute("data-theme");
  expect(await bg()).toBe(dark);
});

test("the batch page's Configuration lists the flow, every parameter and every option, seed and parent", async ({ page, request }) => {
  const parent = await runEchoBatch(request, 2, { name: unique("ui-config-parent") });
  const clone = await request.post(`/api/batches/${parent.id}/clone`, {
    data: {
      parameters: { delay_ms: 1 },
      seed: "seed-of-config",
      max_cost: 5,
      cost_reservation: { per_record: 0.25 },
      cache: true,
      cache_max_age: 3600,
      save_raw: true,
      ttl_seconds: 86_400,
      priority: 7,
      shuffle: true,
    },
  });
  expect(clone.status(), await clone.text()).toBe(201);
  const child = (await clone.json()) as { id: string; options: Record<string, unknown> };

  await page.goto(`/batches/${child.id}`);
  await page.getByText("Configuration", { exact: true }).click();
  await expect(page.getByRole("region", { name: "Batch configuration" })).toContainText(parent.id);
  await expect(page.getByRole("region", { name: "Batch configuration" }).getByRole("link", { name: parent.id })).toHaveAttribute("href", `/batches/${parent.id}`);
  await expect(page.getByRole("region", { name: "Parameters" })).toContainText(/delay_ms\s*1/);
  const options = page.getByRole("region", { name: "Options" });
  // every option the API returns, whatever it is called, has its row
  for (const key of Object.keys(child.options)) await expect(options.getByRole("term").filter({ hasText: new RegExp(`^${key}$`) })).toHaveCount(1);
  for (const [key, value] of [
    ["seed", "seed-of-config"],
    ["cost_reservation", '{"per_record":0.25}'],
    ["cache", "true"],
    ["cache_max_age", "3600"],
    ["save_raw", "true"],
    ["ttl_seconds", "86400"],
    ["priority", "7"],
  ] as const) {
    await expect(options.getByRole("term").filter({ hasText: new RegExp(`^${key}$`) }).locator("xpath=following-sibling::dd[1]")).toHaveText(value);
  }
  await page.getByText("Configuration", { exact: true }).scrollIntoViewIfNeeded();
  await snap(page, "daily-configuration-light", { fullPage: false });
  await setTheme(page, "dark");
  await snap(page, "daily-configuration-dark", { fullPage: false });
});

test.describe("at 390 px wide", () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test("no page scrolls sideways, the nav folds behind Menu, tables keep their key columns", async ({ page, request }) => {
    const batch = await runEchoBatch(request, 3, { name: unique("ui-mobile-a-rather-long-batch-name") });
    for (const path of ["/", `/batches/${batch.id}`, "/datasets", "/inbox", "/settings", "/workers"]) {
      await page.goto(path);
      await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
      await expect(page.getByText(/^Loading/)).toHaveCount(0);
      const width = await page.evaluate(() => document.scrollingElement!.scrollWidth);
      expect(width, `${path} is ${width} px wide`).toBeLessThanOrEqual(390);
    }

    await page.goto(`/batches/${batch.id}`);
    const nav = page.getByRole("navigation", { name: "Main" });
    await expect(nav).toBeHidden();
    const jobs = page.getByRole("table", { name: "Jobs" });
    // the key columns are on screen without scrolling the table; the rest scroll inside it
    for (const name of ["Record", "Status"]) {
      const box = (await jobs.getByRole("columnheader", { name, exact: true }).boundingBox())!;
      expect(box.x + box.width, `${name} column`).toBeLessThanOrEqual(390);
    }
    await snap(page, "daily-mobile-batch-light");
    await setTheme(page, "dark");
    await snap(page, "daily-mobile-batch-dark");

    const menu = page.getByRole("button", { name: "Menu" });
    await menu.click();
    await expect(menu).toHaveAttribute("aria-expanded", "true");
    await expect(nav).toBeVisible();
    await snap(page, "daily-mobile-menu-dark", { fullPage: false });
    await nav.getByRole("link", { name: "Datasets" }).click();
    await expect(page).toHaveURL(/\/datasets$/);
    await expect(nav).toBeHidden();
  });
});
