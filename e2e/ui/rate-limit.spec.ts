import { expect, test } from "@playwright/test";
import { createBatch, getBatch, inlineRecords, unique } from "../fixtures";
import { snap } from "./helpers";

test("a rate-limited batch from the form shows its limit, its sharing and its waiting on the batch page", async ({ page, request }) => {
  const name = unique("ui-rate-limit");
  const key = unique("e2e:model");
  await page.goto("/batches/new");
  await page.getByRole("combobox", { name: "Flow", exact: true }).selectOption("echo");
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("radio", { name: /Paste or upload records/ }).check();
  await page.getByRole("textbox", { name: "Records", exact: true }).fill(JSON.stringify(inlineRecords(40)));
  await page.getByLabel("Concurrency").fill("4");
  // one call a second: the batch spends its time waiting on the limit
  await page.getByLabel("Requests / min").fill("60");
  await page.getByLabel("Shared key").fill(key);
  await page.getByRole("button", { name: "Launch batch" }).click();

  await expect(page.getByRole("heading", { level: 1, name: new RegExp(name) })).toBeVisible();
  const id = new URL(page.url()).pathname.split("/").pop()!;
  expect((await getBatch(request, id)).options).toMatchObject({ rate_limit: { requests_per_minute: 60, key } });
  const card = page.getByRole("region", { name: "Rate limit" });
  await expect(card).toContainText(`limited: 60 requests/min shared (key ${key})`);
  await expect(card).toContainText("waiting on its limit", { timeout: 20_000 });

  // a second batch on the same key: the first one's page says it shares the budget
  const other = await createBatch(request, { flow: "echo", records: inlineRecords(40), concurrency: 2, rate_limit: { key, requests_per_minute: 60 } });
  await expect(card).toContainText("shared with 1 other batch", { timeout: 20_000 });
  await snap(page, "batch-rate-limited");

  for (const b of [id, other.id]) await request.delete(`/api/batches/${b}`);
});
