import { expect, test } from "@playwright/test";
import { createBatch, inlineRecords, unique, waitForBatch } from "../fixtures";

test("the batches list keeps its filters and search in the URL, and finds a batch by its id", async ({ page, request }) => {
  const name = unique("url-filter");
  const batch = await createBatch(request, { flow: "echo", name, records: inlineRecords(3) });
  await waitForBatch(request, batch.id);

  await page.goto("/batches");
  await page.getByRole("combobox", { name: "Status" }).selectOption("completed");
  await page.getByRole("combobox", { name: "Flow" }).selectOption("echo");
  await page.getByRole("searchbox", { name: "Search batches" }).fill(name);
  await expect(page).toHaveURL(/status=completed/);
  await expect(page).toHaveURL(new RegExp(`q=${name}`));
  await expect(page.getByRole("row").filter({ hasText: name })).toHaveCount(1);

  // a reload (or a shared link) shows the same list
  await page.reload();
  await expect(page.getByRole("combobox", { name: "Status" })).toHaveValue("completed");
  await expect(page.getByRole("combobox", { name: "Flow" })).toHaveValue("echo");
  await expect(page.getByRole("searchbox", { name: "Search batches" })).toHaveValue(name);
  await expect(page.getByRole("row").filter({ hasText: name })).toHaveCount(1);

  // Back returns to the filtered list from a batch
  await page.getByRole("link", { name }).click();
  await expect(page).toHaveURL(new RegExp(`/batches/${batch.id}`));
  await page.goBack();
  await expect(page.getByRole("combobox", { name: "Status" })).toHaveValue("completed");

  // a full id finds its batch
  await page.goto(`/batches?q=${batch.id}`);
  await expect(page.getByRole("row").filter({ hasText: name })).toHaveCount(1);
});

test("a link to one job opens the batch page with that job's panel", async ({ page, request }) => {
  const batch = await createBatch(request, { flow: "echo", records: inlineRecords(5) });
  await waitForBatch(request, batch.id);
  await page.goto(`/batches/${batch.id}?job=r3`);
  const panel = page.getByRole("dialog", { name: "Job r3" });
  await expect(panel).toBeVisible();
  await panel.getByRole("button", { name: "Close job panel" }).click();
  await expect(page).toHaveURL(new RegExp(`/batches/${batch.id}$`));
  await page.getByRole("table", { name: "Jobs" }).getByRole("row").filter({ hasText: "r1" }).click();
  await expect(page).toHaveURL(/job=r1/);
  await expect(page.getByRole("dialog", { name: "Job r1" })).toBeVisible();
});
