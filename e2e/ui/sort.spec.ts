import { expect, test } from "@playwright/test";
import { createBatch, expectError, detailPaths, unique, waitForBatch } from "../fixtures";
import { setTheme, snap } from "./helpers";

test("sort the batches list by cost: the order is in the URL, so a reload, Back and a shared link keep it", async ({ page, request }) => {
  const prefix = unique("sorted");
  const costs = [0.02, 0.05, 0.01];
  const ids: string[] = [];
  for (const [i, cost] of costs.entries()) {
    const b = await createBatch(request, {
      flow: "chaos",
      name: `${prefix}-${i}`,
      parameters: { failure_rate: 0, cost_per_item: cost },
      records: [{ id: "a" }, { id: "b" }],
    });
    ids.push(b.id);
  }
  for (const id of ids) await waitForBatch(request, id);

  await page.goto(`/batches?q=${prefix}`);
  const table = page.getByRole("table", { name: "Batches" });
  const names = () => table.getByRole("row").locator("td.cell-name a");
  await expect(names()).toHaveText([`${prefix}-2`, `${prefix}-1`, `${prefix}-0`]); // newest first

  await table.getByRole("button", { name: "Cost" }).click();
  await expect(page).toHaveURL(/sort=cost/);
  await expect(table.getByRole("columnheader", { name: "Cost" })).toHaveAttribute("aria-sort", "descending");
  await expect(names()).toHaveText([`${prefix}-1`, `${prefix}-0`, `${prefix}-2`]);

  await table.getByRole("button", { name: "Cost" }).click();
  await expect(page).toHaveURL(/order=asc/);
  await expect(table.getByRole("columnheader", { name: "Cost" })).toHaveAttribute("aria-sort", "ascending");
  await expect(names()).toHaveText([`${prefix}-2`, `${prefix}-0`, `${prefix}-1`]);
  await snap(page, "batches-sorted-light");
  await setTheme(page, "dark");
  await snap(page, "batches-sorted-dark");

  await page.reload();
  await expect(names()).toHaveText([`${prefix}-2`, `${prefix}-0`, `${prefix}-1`]);
  await names().first().click();
  await expect(page).toHaveURL(new RegExp(`/batches/${ids[2]}`));
  await page.goBack();
  await expect(page).toHaveURL(/sort=cost&order=asc|order=asc&sort=cost/);
  await expect(names()).toHaveText([`${prefix}-2`, `${prefix}-0`, `${prefix}-1`]);

  // a shared link with another key
  await page.goto(`/batches?q=${prefix}&sort=progress&order=asc`);
  await expect(table.getByRole("columnheader", { name: "Progress" })).toHaveAttribute("aria-sort", "ascending");
  await expect(names()).toHaveCount(3);
});

test("GET /api/batches pages through a sort by id-broken ties, and refuses an unknown sort or order", async ({ request }) => {
  const prefix = unique("ties");
  for (let i = 0; i < 5; i++) await createBatch(request, { flow: "echo", name: `${prefix}-${i}`, records: [{ id: "x" }] });
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const url: string = `/api/batches?q=${prefix}&sort=cost&order=asc&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
    const res = await request.get(url);
    expect(res.status(), await res.text()).toBe(200);
    const page = (await res.json()) as { items: { id: string }[]; next_cursor: string | null };
    seen.push(...page.items.map((b) => b.id));
    cursor = page.next_cursor;
  } while (cursor);
  // every cost is 0: the order is the ids'
  expect(seen).toEqual([...seen].sort());
  expect(new Set(seen).size).toBe(5);

  expect(detailPaths(await expectError(await request.get("/api/batches?sort=name"), 422, "validation_failed"))).toContain("sort");
  expect(detailPaths(await expectError(await request.get("/api/batches?order=up"), 422, "validation_failed"))).toContain("order");
});
