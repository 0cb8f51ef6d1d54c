import { expect, test } from "@playwright/test";
import { unique } from "../fixtures";
import { snap } from "./helpers";

test("upload a dataset by drag and drop, preview it and launch a batch on it", async ({ page }) => {
  const name = unique("people");
  const csv = "id,name,city\np1,Ada,London\np2,Grace,New York\np3,Linus,Helsinki\n";
  await page.goto("/datasets");
  const dt = await page.evaluateHandle((text) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([text], "people.csv", { type: "text/csv" }));
    return transfer;
  }, csv);
  await page.getByTestId("dropzone").dispatchEvent("drop", { dataTransfer: dt });
  await expect(page.getByText("people.csv")).toBeVisible();
  await expect(page.getByLabel("Format")).toHaveValue("csv");
  await page.getByLabel("Dataset name").fill(name);
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  const ok = page.getByRole("status").filter({ hasText: "Uploaded" });
  await expect(ok).toContainText("3 records");
  await expect(page.getByRole("table", { name: "Datasets" })).toContainText(name);
  await snap(page, "datasets");

  await ok.getByRole("link", { name }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await expect(page.getByRole("table", { name: "Records" })).toContainText("Grace");
  await snap(page, "dataset-detail");

  await page.getByRole("link", { name: "Launch batch on this dataset" }).click();
  await expect(page).toHaveURL(/\/batches\/new\?dataset=/);
  await page.getByRole("combobox", { name: "Flow", exact: true }).selectOption("echo");
  await expect(page.getByLabel("Dataset", { exact: true })).toContainText(name);
  await page.getByRole("button", { name: "Launch batch" }).click();
  await expect(page).toHaveURL(/\/batches\/[^/?]+$/);
  await expect(page.getByRole("region", { name: "Progress by status" }).getByRole("progressbar")).toHaveAttribute("aria-valuenow", "100", {
    timeout: 45_000,
  });
  await expect(page.getByRole("table", { name: "Jobs" })).toContainText("p3");
});

test("upload a JSONL file through the file picker", async ({ page }) => {
  const name = unique("lines");
  await page.goto("/datasets");
  await page.getByLabel("Dataset file").setInputFiles({
    name: "lines.jsonl",
    mimeType: "application/x-ndjson",
    buffer: Buffer.from('{"id":"x1","v":1}\n{"id":"x2","v":2}\n'),
  });
  await expect(page.getByLabel("Format")).toHaveValue("jsonl");
  await page.getByLabel("Dataset name").fill(name);
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Uploaded" })).toContainText("2 records");
});

test("a bad upload shows the API's error", async ({ page }) => {
  await page.goto("/datasets");
  await page.getByLabel("Dataset file").setInputFiles({ name: "broken.json", mimeType: "application/json", buffer: Buffer.from("[{not json") });
  await page.getByLabel("Dataset name").fill(unique("broken"));
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Upload failed" })).toBeVisible();
});
