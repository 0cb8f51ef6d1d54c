import { expect, test } from "@playwright/test";
import { createBatch, inlineRecords, unique, waitForBatch } from "../fixtures";
import { setTheme, snap } from "./helpers";

test("run a batch again reusing its results: nothing runs, the cost saved is shown, each job names its source", async ({ page, request }) => {
  const seed = unique("cache");
  const parent = await createBatch(request, {
    flow: "chaos",
    name: unique("paid-run"),
    records: inlineRecords(12, `${seed}-`),
    parameters: { failure_rate: 0, seed, cost_per_item: 0.01 },
    concurrency: 4,
  });
  const done = await waitForBatch(request, parent.id);
  expect(done.progress.succeeded).toBe(12);

  await page.goto(`/batches/${parent.id}`);
  await page.getByRole("link", { name: "Run again…" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Run again" })).toBeVisible();
  await page.getByLabel("Reuse earlier results").check();
  await page.getByLabel("Reuse results at most this many seconds old").fill("3600");
  await expect(page.getByRole("status").filter({ hasText: "changed" })).toHaveText("2 changed settings");
  await page.getByRole("button", { name: "Run again" }).click();

  await expect(page).toHaveURL(/\/batches\/batch_/);
  await expect(page).not.toHaveURL(new RegExp(parent.id));
  const childId = page.url().split("/batches/")[1]!.split("?")[0]!;
  const child = await waitForBatch(request, childId);
  expect(child.progress).toMatchObject({ total: 12, succeeded: 12 });
  expect(child.cost.spent).toBe(0);
  await expect(page.getByTestId("reused")).toHaveText("12 results reused · saved $0.12");
  await expect(page.locator("tbody .tag", { hasText: "cached" }).first()).toBeVisible();

  await page.locator("tbody tr").first().click();
  const panel = page.getByRole("dialog");
  await expect(panel.getByRole("link", { name: parent.id })).toBeVisible();
  // a succeeded job cannot be retried (the API answers 409): the panel offers no such button
  await expect(panel.getByRole("button", { name: "Retry job" })).toHaveCount(0);
  // the flow did not run: no rate to show for this batch
  await expect(page.getByRole("region", { name: "Rate" })).toContainText("—");
  for (const theme of ["light", "dark"] as const) {
    await setTheme(page, theme);
    await snap(page, `cache-${theme}`);
  }
  await panel.getByRole("link", { name: parent.id }).click();
  await expect(page).toHaveURL(new RegExp(`/batches/${parent.id}\\?job=`));
});
