import { expect, test } from "@playwright/test";
import { createBatch, unique, waitForBatch } from "../fixtures";
import { setTheme, snap } from "./helpers";

// Comments a sentiment model reads as mildly positive or negative: a higher neutral threshold makes
// c2, c3 and c6 neutral; the rest keep their label.
const TEXTS = [
  "I love this, it is great",
  "terrible and awful",
  "this is a good thing to have in the house today",
  "the delivery came on a bad day of the week for us",
  "a table with four legs",
  "wonderful",
  "the bad part was small but the rest was fine for a whole week",
  "it works",
];
const records = TEXTS.map((text, i) => ({ id: `c${i}`, text }));

test("compare two classify batches down to a record they disagree on", async ({ page, request }) => {
  const a = await createBatch(request, { flow: "classify", name: unique("threshold-0"), records, parameters: { neutral_threshold: 0 } });
  const b = await createBatch(request, { flow: "classify", name: unique("threshold-0.3"), records, parameters: { neutral_threshold: 0.3 } });
  await waitForBatch(request, a.id);
  await waitForBatch(request, b.id);

  // from A's page, "Compare with…" opens the comparison with A chosen
  await page.goto(`/batches/${a.id}`);
  await page.getByRole("link", { name: "Compare with…" }).click();
  await expect(page).toHaveURL(new RegExp(`/compare\\?a=${a.id}$`));
  await expect(page.getByRole("heading", { name: "Pick two batches" })).toBeVisible();
  await expect(page.getByLabel("Batch A")).toHaveValue(a.id);
  await page.getByLabel("Batch B").fill(b.id);
  await page.getByLabel("Field").fill("result.label");
  await page.getByRole("button", { name: "Compare" }).click();

  await expect(page.getByRole("region", { name: "Agreement" })).toContainText("62.5%");
  await expect(page.getByRole("button", { name: "Show different records" })).toContainText("3");
  await expect(page.getByRole("button", { name: "Show same records" })).toContainText("5");
  const matrix = page.getByRole("region", { name: "Confusion matrix" });
  await expect(matrix.getByRole("button", { name: "2 records: A negative, B neutral" })).toBeVisible();
  await expect(matrix.getByRole("button", { name: "1 records: A positive, B neutral" })).toBeVisible();
  await expect(matrix.getByRole("button", { name: "2 records: A positive, B positive" })).toBeVisible();
  const table = page.getByRole("table", { name: "Compared records" });
  await expect(table.getByRole("row")).toHaveCount(9);
  for (const theme of ["light", "dark"] as const) {
    await setTheme(page, theme);
    await snap(page, `compare-${theme}`);
  }

  // a cell of the matrix filters the records, and the URL keeps it
  await matrix.getByRole("button", { name: "2 records: A negative, B neutral" }).click();
  await expect(page).toHaveURL(/a_value=/);
  await expect(table.getByRole("row")).toHaveCount(3);
  await expect(table).toContainText("c3");
  await expect(table).toContainText("c6");

  // J moves to the first record, then the next: each shows its record beside both results
  await page.keyboard.press("j");
  const beside = page.getByRole("region", { name: "Record c3" });
  await expect(beside).toContainText("the delivery came on a bad day");
  await expect(beside.getByRole("group", { name: "A result" })).toContainText("negative");
  await expect(beside.getByRole("group", { name: "B result" })).toContainText("neutral");
  await page.keyboard.press("j");
  await expect(page.getByRole("region", { name: "Record c6" })).toBeVisible();
  await page.keyboard.press("k");
  await expect(page.getByRole("region", { name: "Record c3" })).toBeVisible();

  // the export carries the same filter
  await page.getByText("Export", { exact: true }).click();
  const href = await page.getByRole("menuitem", { name: "Comparison as CSV" }).getAttribute("href");
  expect(href).toContain("a_value=");
  const csv = await (await request.get(href!)).text();
  expect(csv.trim().split("\r\n").slice(1).map((l) => l.split(",")[0])).toEqual(["c3", "c6"]);

  // Back keeps the unfiltered comparison
  await page.getByRole("button", { name: "Show all" }).click();
  await expect(table.getByRole("row")).toHaveCount(9);
  await page.reload();
  await expect(page.getByRole("region", { name: "Agreement" })).toContainText("62.5%");
});

test("a field no result has is named in the error", async ({ page, request }) => {
  const a = await createBatch(request, { flow: "classify", name: unique("cmp-err"), records: records.slice(0, 2) });
  await waitForBatch(request, a.id);
  await page.goto(`/compare?a=${a.id}&b=${a.id}&field=result.lable`);
  await expect(page.getByRole("alert").filter({ hasText: "Could not load the comparison" })).toContainText("no result of either batch has the field result.lable");
});
