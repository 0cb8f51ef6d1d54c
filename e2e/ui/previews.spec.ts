import { expect, test } from "@playwright/test";
import { createBatch, createDataset, unique, waitForBatch } from "../fixtures";
import { setTheme, snap } from "./helpers";

const PAYLOAD = "<img src=x onerror=window.__xss=1>";

test("the jobs table previews each result or error on one line, as text", async ({ page, request }) => {
  const long = "word ".repeat(400);
  const records = [
    { id: "short", text: PAYLOAD },
    { id: "long", text: `line one\nline two ${long}` },
  ];
  const ok = await createBatch(request, { flow: "echo", records, shuffle: false });
  const failing = await createBatch(request, { flow: "chaos", parameters: { failure_rate: 1 }, records: [{ id: "bad", text: "x" }] });
  await waitForBatch(request, ok.id);
  await waitForBatch(request, failing.id);

  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`/batches/${ok.id}`);
  const jobs = page.getByRole("table", { name: "Jobs" });
  const short = jobs.getByRole("row").filter({ hasText: "short" }).getByRole("cell").nth(7);
  await expect(short).toHaveText(`{"id": "short", "text": "${PAYLOAD}"}`);
  const longCell = jobs.getByRole("row").filter({ hasText: "long" }).getByRole("cell").nth(7);
  // the API cuts the preview; the cell keeps it to one line whatever it holds
  await expect(longCell).toContainText("…");
  const [rowHeight, shortHeight] = await Promise.all([
    longCell.evaluate((td) => td.getBoundingClientRect().height),
    short.evaluate((td) => td.getBoundingClientRect().height),
  ]);
  // one line each (a wrapped preview would be twice as tall), give or take sub-pixel rounding
  expect(Math.abs(rowHeight - shortHeight)).toBeLessThan(2);
  expect(await page.evaluate(() => document.scrollingElement!.scrollWidth)).toBeLessThanOrEqual(1280);
  await expect(jobs.locator("img")).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
  await jobs.scrollIntoViewIfNeeded();
  await snap(page, "jobs-preview-light", { fullPage: false });
  await setTheme(page, "dark");
  await snap(page, "jobs-preview-dark", { fullPage: false });

  const res = await request.get(`/api/batches/${ok.id}/jobs`);
  const body = (await res.json()) as { items: { record_id: string; result_preview: string }[] };
  const preview = body.items.find((j) => j.record_id === "long")!.result_preview;
  expect(preview.length).toBe(121);
  expect(preview).not.toContain("\n");

  await page.goto(`/batches/${failing.id}`);
  const bad = page.getByRole("table", { name: "Jobs" }).getByRole("row").filter({ hasText: "bad" }).getByRole("cell").nth(7);
  await expect(bad).toHaveText('chaos simulated failure for record "bad"');
});

test("a dataset of flat rows previews as a table with a column per key; nested data as JSON", async ({ page, request }) => {
  const flat = await createDataset(request, [
    { id: "p1", name: "Ada", city: "London" },
    { id: "p2", name: PAYLOAD, stars: 4 },
  ], unique("flat"));
  await page.goto(`/datasets/${flat.id}`);
  const table = page.getByRole("table", { name: "Records" });
  // the keys in the order the stored JSON gives them, which first appear
  await expect(table.getByRole("columnheader")).toHaveText(["#", "Record id", "id", "city", "name", "stars"]);
  await expect(table.getByRole("row").filter({ hasText: "p2" }).getByRole("cell").nth(3)).toHaveText("");
  await expect(table.getByRole("row").filter({ hasText: "p2" }).getByRole("cell").nth(4)).toHaveText(PAYLOAD);
  await expect(table.getByRole("row").filter({ hasText: "p2" }).getByRole("cell").nth(5)).toHaveText("4");
  await expect(table.locator("img")).toHaveCount(0);
  await snap(page, "dataset-table-light");
  await setTheme(page, "dark");
  await snap(page, "dataset-table-dark");

  const nested = await createDataset(request, [{ id: "n1", meta: { tags: ["a"] } }], unique("nested"));
  await page.goto(`/datasets/${nested.id}`);
  const json = page.getByRole("table", { name: "Records" });
  await expect(json.getByRole("columnheader")).toHaveText(["#", "Record id", "Data"]);
  await expect(json).toContainText('{"id": "n1", "meta": {"tags": ["a"]}}');
});

test("the workers page gives every rate in one unit, labelled", async ({ page, request }) => {
  const batch = await createBatch(request, { flow: "echo", records: [{ id: "w1" }, { id: "w2" }] });
  await waitForBatch(request, batch.id);
  await page.goto("/workers");
  const stats = page.locator(".stat");
  for (const label of ["Throughput, last minute", "Throughput, last hour (mean)"]) {
    await expect(stats.filter({ hasText: label }).locator(".stat-value")).toHaveText(/^[\d,.]+ jobs\/min$/);
  }
  await expect(page.getByRole("heading", { name: "Jobs finished per minute, last hour" })).toBeVisible();
  await expect(page.getByRole("region", { name: "Global throughput" })).toContainText("jobs/min");
  await snap(page, "workers-light");
  await setTheme(page, "dark");
  await snap(page, "workers-dark");
});
