import { expect, test } from "@playwright/test";
import { createBatch, createDataset, createPausedBatch, detailPaths, expectError, getBatch, inlineRecords, runEchoBatch, unique, waitForBatch, waitUntil } from "../fixtures";
import { setTheme, snap } from "./helpers";

interface Bulk {
  action: string;
  applies_to: string[];
  matched: number;
  changed: number;
  unchanged: number;
  not_found: string[];
  message: string;
}

/** A batch of `n` records of which every one fails its first attempt and succeeds when retried. */
async function failedOnce(request: Parameters<typeof createBatch>[0], n: number) {
  const b = await createBatch(request, {
    flow: "chaos",
    name: unique("bulk"),
    parameters: { failure_rate: 1, transient: true },
    records: inlineRecords(n),
    shuffle: false,
  });
  const done = await waitForBatch(request, b.id);
  expect(done.progress.failed).toBe(n);
  return b;
}

test("POST /api/batches/{id}/bulk retries or cancels by record ids or by filter, says what changed, and repeats as a no-op", async ({ request }) => {
  const b = await failedOnce(request, 4);
  const bulk = async (data: unknown) => {
    const res = await request.post(`/api/batches/${b.id}/bulk`, { data });
    expect(res.status(), await res.text()).toBe(200);
    return (await res.json()) as Bulk;
  };
  const first = await bulk({ action: "retry", record_ids: ["r0", "r1", "nope"] });
  expect(first).toMatchObject({ action: "retry", applies_to: ["failed", "cancelled"], matched: 2, changed: 2, unchanged: 0, not_found: ["nope"] });
  await waitUntil(async () => ((await getBatch(request, b.id)).progress.succeeded === 2 ? true : undefined), "two retried jobs succeed");
  const again = await bulk({ action: "retry", record_ids: ["r0", "r1"] });
  expect(again).toMatchObject({ matched: 2, changed: 0, unchanged: 2 });
  expect(again.message).toContain("retry applies only to failed and cancelled jobs");

  const byFilter = await bulk({ action: "retry", filter: { status: ["failed"] } });
  expect(byFilter).toMatchObject({ matched: 2, changed: 2 });
  const done = await waitForBatch(request, b.id);
  expect(done.progress).toMatchObject({ succeeded: 4, failed: 0 });

  // cancel applies to pending and waiting jobs only
  const paused = await createPausedBatch(request);
  const res = await request.post(`/api/batches/${paused.id}/bulk`, { data: { action: "cancel", filter: {} } });
  const cancel = (await res.json()) as Bulk;
  expect(cancel.applies_to).toEqual(["pending", "waiting_input", "waiting_provider"]);
  expect(cancel.matched).toBe(3);
  const after = await getBatch(request, paused.id);
  expect(after.progress.cancelled).toBe(cancel.changed);
  expect(cancel.changed + cancel.unchanged).toBe(3);
  if (after.progress.running + after.progress.reserved > 0) await request.post(`/api/batches/${paused.id}/cancel`);

  // validated: one selection, bounded, known actions
  const bad = (data: unknown) => request.post(`/api/batches/${b.id}/bulk`, { data });
  await expectError(await bad({ action: "retry", record_ids: ["r0"], filter: {} }), 422, "validation_failed");
  await expectError(await bad({ action: "retry" }), 422, "validation_failed");
  expect(detailPaths(await expectError(await bad({ action: "delete", filter: {} }), 422, "validation_failed"))).toContain("action");
  const many = Array.from({ length: 1001 }, (_, i) => `r${i}`);
  expect(detailPaths(await expectError(await bad({ action: "retry", record_ids: many }), 422, "validation_failed"))).toContain("record_ids");
  await expectError(await request.post(`/api/batches/no-such-batch/bulk`, { data: { action: "retry", filter: {} } }), 404, "not_found");
});

test("tick jobs and retry them from the batch page; the count of what changed is shown", async ({ page, request }) => {
  const b = await failedOnce(request, 3);
  await page.goto(`/batches/${b.id}`);
  const jobs = page.getByRole("table", { name: "Jobs" });
  await jobs.getByRole("checkbox", { name: "Select job r0" }).check();
  await jobs.getByRole("checkbox", { name: "Select job r2" }).check();
  const bar = page.getByRole("group", { name: "Bulk actions" });
  await expect(bar).toContainText("2 selected");
  await snap(page, "bulk-selected-light");
  await bar.getByRole("button", { name: "Retry selected" }).click();
  const dialog = page.getByRole("dialog", { name: "Retry jobs?" });
  await expect(dialog).toContainText("applies only to failed and cancelled jobs");
  await dialog.getByRole("button", { name: "Retry" }).click();
  await expect(bar.getByRole("status")).toHaveText("2 jobs retried");
  await waitUntil(async () => ((await getBatch(request, b.id)).progress.succeeded === 2 ? true : undefined), "two jobs succeed");

  // none ticked: the action covers every job the filter shows
  await page.getByRole("combobox", { name: "Job status" }).selectOption("failed");
  await expect(jobs.getByRole("row")).toHaveCount(2);
  // the header checkbox selects every job the filter matches (here the one failed job)
  await jobs.getByRole("checkbox", { name: /^Select all 1 job the filter matches/ }).check();
  await expect(bar).toContainText("All 1 job selected");
  await jobs.getByRole("checkbox", { name: /^Select all 1 job the filter matches/ }).uncheck();
  await bar.getByRole("button", { name: "Retry all shown" }).click();
  // one job: every count agrees with its noun (the bar, the dialog, the count under the table)
  await expect(page.getByRole("dialog", { name: "Retry jobs?" })).toContainText("Retry all 1 job shown.");
  await expect(page.locator("section.jobs > .load-more")).toHaveText("1 of 1 job");
  await page.getByRole("dialog", { name: "Retry jobs?" }).getByRole("button", { name: "Retry" }).click();
  await expect(bar.getByRole("status")).toHaveText("1 job retried");
  await setTheme(page, "dark");
  await snap(page, "bulk-done-dark");
  expect((await waitForBatch(request, b.id)).progress.succeeded).toBe(3);
});

test("delete a finished batch from its page; a running one is refused; its child shows the parent as deleted", async ({ page, request }) => {
  const running = await createPausedBatch(request);
  const refused = await expectError(await request.post(`/api/batches/${running.id}/delete`), 409, "conflict");
  expect(refused.message).toContain("cancel it first");
  await request.post(`/api/batches/${running.id}/cancel`);

  const parent = await runEchoBatch(request, 3, { name: unique("to-delete") });
  const cloned = await request.post(`/api/batches/${parent.id}/clone`, { data: {} });
  expect(cloned.status(), await cloned.text()).toBe(201);
  const child = (await cloned.json()) as { id: string };
  await waitForBatch(request, child.id);

  await page.goto(`/batches/${parent.id}`);
  await page.getByRole("button", { name: "Delete…" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete this batch?" });
  await expect(dialog).toContainText("3 jobs");
  await snap(page, "delete-batch-light", { fullPage: false });
  await dialog.getByRole("button", { name: "Delete batch" }).click();
  await expect(page).toHaveURL(/\/batches$/);
  await expectError(await request.get(`/api/batches/${parent.id}`), 404, "not_found");
  await expectError(await request.post(`/api/batches/${parent.id}/delete`), 404, "not_found");

  await page.goto(`/batches/${child.id}`);
  const lineage = page.getByLabel("Lineage");
  await expect(lineage).toContainText(`run again from ${parent.id} deleted`);
  await setTheme(page, "dark");
  await snap(page, "delete-child-dark", { fullPage: false });
  const childJobs = await request.get(`/api/batches/${child.id}/jobs`);
  expect(((await childJobs.json()) as { total: number }).total).toBe(3);
});

test("delete a dataset: refused while a batch still runs on it, naming the batch; deleted once it finished", async ({ page, request }) => {
  const ds = await createDataset(request, inlineRecords(3), unique("del-ds"));
  const batch = await createPausedBatch(request, { records: undefined, dataset: ds.id });
  await page.goto(`/datasets/${ds.id}`);
  await page.getByRole("button", { name: "Delete…" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete this dataset?" });
  await dialog.getByRole("button", { name: "Delete dataset" }).click();
  await expect(dialog.getByRole("alert")).toContainText(batch.id);
  await snap(page, "delete-dataset-refused-light", { fullPage: false });
  await dialog.getByRole("button", { name: "Keep as is" }).click();

  await request.post(`/api/batches/${batch.id}/cancel`);
  await page.getByRole("button", { name: "Delete…" }).click();
  await page.getByRole("dialog", { name: "Delete this dataset?" }).getByRole("button", { name: "Delete dataset" }).click();
  await expect(page).toHaveURL(/\/datasets$/);
  await expectError(await request.get(`/api/datasets/${ds.id}`), 404, "not_found");
  // the finished batch stays readable
  expect((await request.get(`/api/batches/${batch.id}`)).status()).toBe(200);
});
