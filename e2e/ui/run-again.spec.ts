import { expect, test } from "@playwright/test";
import { createBatch, inlineRecords, unique, waitForBatch } from "../fixtures";
import { setTheme, snap } from "./helpers";

test("run a batch again on its failed records with one parameter changed, then compare the two", async ({ page, request }) => {
  const parent = await createBatch(request, {
    flow: "chaos",
    name: unique("first-run"),
    records: inlineRecords(20),
    parameters: { failure_rate: 0.5, seed: "ui" },
    concurrency: 4,
  });
  const done = await waitForBatch(request, parent.id);
  const failed = done.progress.failed;
  expect(failed).toBeGreaterThan(0);

  await page.goto(`/batches/${parent.id}`);
  await page.getByRole("link", { name: "Run again…" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Run again" })).toBeVisible();
  await expect(page.getByRole("combobox", { name: "Flow", exact: true })).toBeDisabled();
  const rate = page.getByRole("spinbutton", { name: /failure_rate/ });
  await expect(rate).toHaveValue("0.5");
  await expect(page.getByLabel("Concurrency")).toHaveValue("4");
  await expect(page.getByRole("status").filter({ hasText: "changed" })).toHaveText("No changed settings");

  await rate.fill("0");
  await expect(page.locator(".field.is-changed")).toHaveCount(1);
  await expect(page.locator(".field.is-changed")).toContainText("failure_rate");
  await expect(page.getByRole("status").filter({ hasText: "changed" })).toHaveText("1 changed setting");
  await page.getByRole("radio", { name: `Only the failed ones (${failed})` }).check();
  for (const theme of ["light", "dark"] as const) {
    await setTheme(page, theme);
    await snap(page, `run-again-${theme}`);
  }
  await page.getByRole("button", { name: "Run again" }).click();

  await expect(page).toHaveURL(/\/batches\/batch_/);
  await expect(page).not.toHaveURL(new RegExp(parent.id));
  const lineage = page.getByLabel("Lineage");
  await expect(lineage).toContainText(`run again from ${parent.id}`);
  const childId = page.url().split("/batches/")[1]!;
  const child = await waitForBatch(request, childId);
  expect(child.progress).toMatchObject({ total: failed, succeeded: failed });

  // the parent lists its child; the child's "Compare with…" starts from the parent
  await page.goto(`/batches/${parent.id}`);
  await expect(page.getByLabel("Lineage")).toContainText("run again as");
  await page.goto(`/batches/${childId}`);
  await page.getByRole("link", { name: "Compare with…" }).click();
  await expect(page).toHaveURL(new RegExp(`/compare\\?a=${parent.id}&b=${childId}`));
  await expect(page.getByRole("button", { name: "Show only in a records" })).toContainText(String(20 - failed));
});
