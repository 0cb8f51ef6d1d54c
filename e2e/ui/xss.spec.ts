import { expect, test } from "@playwright/test";
import { createBatch, createDataset, unique, waitForBatch } from "../fixtures";

const PAYLOAD = "<img src=x onerror=window.__xss=1>";

test("record data holding HTML renders as text and runs nothing", async ({ page, request }) => {
  const dataset = await createDataset(request, [{ id: "evil", text: PAYLOAD, "<b>key</b>": "<script>window.__xss=2</script>" }], unique("xss"));
  const batch = await createBatch(request, { flow: "echo", dataset: dataset.id, name: PAYLOAD });
  await waitForBatch(request, batch.id);

  await page.goto(`/datasets/${dataset.id}`);
  await expect(page.getByRole("table", { name: "Records" }).getByText(PAYLOAD, { exact: false }).first()).toBeVisible();

  await page.goto("/batches");
  await expect(page.getByRole("link", { name: PAYLOAD })).toBeVisible();

  await page.goto(`/batches/${batch.id}`);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(PAYLOAD);
  await page.getByRole("table", { name: "Jobs" }).getByRole("row").filter({ hasText: "evil" }).click();
  const panel = page.getByRole("dialog", { name: "Job evil" });
  await expect(panel.getByRole("group", { name: "Result" })).toContainText(PAYLOAD);
  await expect(panel.getByRole("group", { name: "Record" })).toContainText("<script>window.__xss=2</script>");
  await expect(panel.locator("img")).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
});
