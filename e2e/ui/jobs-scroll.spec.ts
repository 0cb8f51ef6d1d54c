// The jobs table of a batch of thousands: it renders only the rows in view, loads further pages as it
// scrolls, and a job far down opens in its panel by click, by keyboard and by link (?job=).
import { expect, test, type Page } from "@playwright/test";
import { createBatch, waitForBatch } from "../fixtures";
import { setTheme, snap } from "./helpers";

const N = 3000;

async function scrollJobsToEnd(page: Page) {
  const box = page.getByTestId("jobs-scroll");
  await expect(async () => {
    await box.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    await expect(page.locator(`tr[data-index="${N - 1}"]`)).toBeVisible({ timeout: 500 });
  }).toPass({ timeout: 60_000 });
}

test("a batch of 3,000 jobs scrolls to its end; a job far down opens by click, keyboard and link", async ({ page, request }) => {
  test.setTimeout(120_000);
  const records = Array.from({ length: N }, (_, i) => ({ id: `r${i}`, text: `record number ${i}` }));
  const b = await createBatch(request, { flow: "echo", records, shuffle: false, name: "scroll through" });
  await waitForBatch(request, b.id, undefined, 90_000);

  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`/batches/${b.id}`);
  const jobs = page.getByRole("table", { name: "Jobs" });
  await expect(jobs.getByRole("row").filter({ hasText: "r0" }).first()).toBeVisible();
  // windowed: a first page of 100 is loaded, far fewer rows are in the document
  const rendered = await page.locator("tbody tr[data-index]").count();
  expect(rendered).toBeGreaterThan(5);
  expect(rendered).toBeLessThan(80);
  await expect(jobs).toHaveAttribute("aria-rowcount", String(N + 1));

  await scrollJobsToEnd(page);
  await expect(page.locator(".jobs .load-more")).toContainText(`${N.toLocaleString("en-US")} of ${N.toLocaleString("en-US")} jobs`);
  expect(await page.locator("tbody tr[data-index]").count()).toBeLessThan(80);
  // the last rows are in their place: ordinal and record agree
  const last = page.locator(`tr[data-index="${N - 1}"]`);
  await expect(last.locator("td.cell-record")).toHaveText(`r${N - 1}`);
  await expect(last.locator("td").nth(1)).toHaveText(String(N));
  await expect(last).toHaveAttribute("aria-rowindex", String(N + 1));

  // click a job far down: its panel opens and the URL names it
  await page.locator('tr[data-record-id="r2990"]').click();
  await expect(page.getByRole("dialog", { name: "Job r2990" })).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`\\?job=r2990$`));
  await expect(page.getByRole("dialog", { name: "Job r2990" })).toContainText("record number 2990");
  await snap(page, "jobs-scrolled-end-light", { fullPage: false });
  await setTheme(page, "dark");
  await snap(page, "jobs-scrolled-end-dark", { fullPage: false });
  await setTheme(page, "light");

  // keyboard: J follows to the next job, K back, with the panel following
  await page.locator('tr[data-record-id="r2990"]').focus();
  await page.keyboard.press("j");
  await expect(page.getByRole("dialog", { name: "Job r2991" })).toBeVisible();
  await expect(page.locator('tr[data-record-id="r2991"]')).toBeFocused();
  await page.keyboard.press("k");
  await page.keyboard.press("k");
  await expect(page.getByRole("dialog", { name: "Job r2989" })).toBeVisible();
  await page.keyboard.press("Escape");

  // keyboard far from the loaded window: Home goes to the first job, scrolled into view
  await page.locator('tr[data-record-id="r2989"]').focus();
  await page.keyboard.press("Home");
  await expect(page.locator('tr[data-record-id="r0"]')).toBeFocused();
  await expect(page.locator('tr[data-record-id="r0"]')).toBeInViewport();

  // selection survives scrolling: tick one far down, scroll up and back
  await scrollJobsToEnd(page);
  await page.getByRole("checkbox", { name: "Select job r2995" }).check();
  await page.getByTestId("jobs-scroll").evaluate((el) => el.scrollTo({ top: 0 }));
  await expect(page.locator('tr[data-record-id="r0"]')).toBeVisible();
  await expect(page.getByRole("group", { name: "Bulk actions" })).toContainText("1 selected");
  await scrollJobsToEnd(page);
  await expect(page.getByRole("checkbox", { name: "Select job r2995" })).toBeChecked();

  // a link to a job far down opens its panel without scrolling to it
  await page.goto(`/batches/${b.id}?job=r2999`);
  await expect(page.getByRole("dialog", { name: "Job r2999" })).toContainText("record number 2999");

  // phone width: nothing scrolls sideways, the record and status columns are on screen
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`/batches/${b.id}`);
  await expect(jobs.getByRole("row").filter({ hasText: "r0" }).first()).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  for (const name of ["Record", "Status"]) {
    const box = (await jobs.getByRole("columnheader", { name, exact: true }).boundingBox())!;
    expect(box.x + box.width, `${name} column`).toBeLessThanOrEqual(390);
  }
  await scrollJobsToEnd(page);
  await page.getByTestId("jobs-scroll").scrollIntoViewIfNeeded();
  // the # column holds its numbers whole: 3000 here, and a 7-digit ordinal (a batch of a million)
  const ordinal = page.locator(`tr[data-index="${N - 1}"] td`).nth(1);
  await expect(ordinal).toHaveText(String(N));
  const fits = () => ordinal.evaluate((el) => el.scrollWidth <= el.clientWidth);
  expect(await fits(), "4-digit ordinal fits").toBe(true);
  await ordinal.evaluate((el) => (el.textContent = "1000000"));
  expect(await fits(), "7-digit ordinal fits").toBe(true);
  await snap(page, "jobs-scrolled-mobile-light", { fullPage: false });
  await setTheme(page, "dark");
  await snap(page, "jobs-scrolled-mobile-dark", { fullPage: false });
});
