// The batch page stays honest while it is open: what it shows after a batch finishes, what "select
// all" selects in a table that holds only some of its rows, and live refresh when scrolled deep.
import { expect, test } from "@playwright/test";
import { createBatch, getBatch, inlineRecords, waitForBatch } from "../fixtures";
import { setTheme, snap } from "./helpers";

test("a batch that finishes while its page is open (its stream down): the results and jobs are read again", async ({ page, request }) => {
  test.setTimeout(90_000);
  // no event stream: the page polls the batch while it runs, and polling stops when it ends
  await page.route(/\/api\/(batches\/[^/]+\/)?events$/, (route) => route.abort("connectionrefused"));
  const b = await createBatch(request, { flow: "echo", parameters: { delay_ms: 8_000 }, records: inlineRecords(6), concurrency: 6, shuffle: false });
  // the results and the jobs are read once while the batch runs; a poll of them made while it still
  // runs gets no answer (so the test does not hang on when the last poll happened); once the batch has
  // ended, every read is answered
  const first = new Set<string>();
  await page.route(/\/api\/batches\/[^/]+\/(summary|jobs)(\?|$)/, async (route) => {
    const kind = route.request().url().includes("/summary") ? "summary" : "jobs";
    const ended = ["completed", "failed", "cancelled"].includes((await getBatch(request, b.id)).status);
    if (ended || !first.has(kind)) {
      first.add(kind);
      await route.continue();
    }
  });
  await page.goto(`/batches/${b.id}`);
  const results = page.getByRole("region", { name: "Results summary" });
  await expect(results).toContainText("0 of 6 ran");
  await expect(page.locator('tr[data-record-id="r0"]')).not.toContainText("succeeded");
  // the batch ends: the page learns it from its batch poll, and then the results and rows follow
  await waitForBatch(request, b.id);
  await expect(page.locator(".live")).toHaveText("finished", { timeout: 10_000 });
  await expect(results).toContainText("6 of 6 ran", { timeout: 5_000 });
  await expect(page.locator('tr[data-record-id="r5"]')).toContainText("succeeded", { timeout: 5_000 });
});

test("select all ticks every job the filter matches, not only the loaded rows; the bulk action acts on all of them", async ({ page, request }) => {
  test.setTimeout(90_000);
  // 300 jobs (three pages of 100), held pending: a slow flow, one at a time, paused at once
  const b = await createBatch(request, { flow: "echo", parameters: { delay_ms: 600_000 }, records: inlineRecords(300), concurrency: 1, shuffle: false });
  expect((await request.post(`/api/batches/${b.id}/pause`)).status()).toBe(200);
  await page.goto(`/batches/${b.id}`);
  await expect(page.locator('tr[data-record-id="r0"]')).toBeVisible();
  const all = page.getByRole("checkbox", { name: /^Select all 300 jobs/ });
  await all.check();
  const bar = page.getByRole("group", { name: "Bulk actions" });
  await expect(bar).toContainText("All 300 jobs selected");
  await expect(page.getByRole("checkbox", { name: "Select job r0", exact: true })).toBeChecked();
  await page.getByTestId("jobs-scroll").scrollIntoViewIfNeeded();
  await snap(page, "jobs-select-all-light", { fullPage: false });
  await setTheme(page, "dark");
  await snap(page, "jobs-select-all-dark", { fullPage: false });
  await setTheme(page, "light");
  await bar.getByRole("button", { name: "Cancel selected" }).click();
  await expect(page.getByRole("dialog")).toContainText("all 300 jobs");
  await page.getByRole("dialog").getByRole("button", { name: "Cancel jobs" }).click();
  // every job that was still pending is cancelled, on every page, loaded or not
  await expect.poll(async () => (await getBatch(request, b.id)).progress.pending, { timeout: 15_000 }).toBe(0);
  const after = await getBatch(request, b.id);
  expect(after.progress.cancelled).toBeGreaterThanOrEqual(299);

  // unticking one row leaves "all" for the loaded rows without it, and says so
  const c = await createBatch(request, { flow: "echo", parameters: { delay_ms: 600_000 }, records: inlineRecords(250), concurrency: 1, shuffle: false });
  expect((await request.post(`/api/batches/${c.id}/pause`)).status()).toBe(200);
  await page.goto(`/batches/${c.id}`);
  await page.getByRole("checkbox", { name: /^Select all 250 jobs/ }).check();
  // every page loaded, then back at the top: the count below is exact
  const box = page.getByTestId("jobs-scroll");
  await expect(async () => {
    await box.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    await expect(page.locator(".jobs .load-more")).toContainText("250 of 250 jobs", { timeout: 500 });
  }).toPass({ timeout: 20_000 });
  await box.evaluate((el) => el.scrollTo({ top: 0 }));
  await page.getByRole("checkbox", { name: "Select job r1", exact: true }).uncheck();
  await expect(page.getByRole("group", { name: "Bulk actions" })).toContainText("249 selected");
  await expect(page.getByRole("checkbox", { name: "Select job r1", exact: true })).not.toBeChecked();
  await expect(page.getByRole("checkbox", { name: "Select job r0", exact: true })).toBeChecked();
});

test("scrolled past the live pages of a running batch, the table says its rows are not refreshed and how many finished since; back to top resumes", async ({ page, request }) => {
  test.setTimeout(120_000);
  // 700 jobs that finish slowly: 1 at a time, 300 ms each
  const b = await createBatch(request, { flow: "echo", parameters: { delay_ms: 300 }, records: inlineRecords(700), concurrency: 1, shuffle: false });
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`/batches/${b.id}`);
  await expect(page.locator('tr[data-record-id="r0"]')).toBeVisible();
  const box = page.getByTestId("jobs-scroll");
  // scroll until more than five pages (500 rows) are loaded
  await expect(async () => {
    await box.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    await expect(page.locator('tr[data-record-id="r699"]')).toBeAttached({ timeout: 500 });
  }).toPass({ timeout: 30_000 });
  const paused = page.getByRole("status").filter({ hasText: "Live refresh paused" });
  await expect(paused).toBeVisible();
  // a job still pending now, in the first page: it finishes while the table is paused
  const pendingNow = (await getBatch(request, b.id)).progress.succeeded + 10;
  expect(pendingNow).toBeLessThan(190); // in the two pages loaded again from the top
  await expect(paused).toContainText(/\d+ jobs? finished since/, { timeout: 15_000 });
  // the notice is above the rows, in view with them (below the table it was off screen while they scrolled)
  await page.locator("section.jobs").evaluate((el) => el.scrollIntoView({ block: "start" }));
  const [note, rows] = [await paused.boundingBox(), await box.boundingBox()];
  expect(note!.y + note!.height).toBeLessThanOrEqual(rows!.y);
  await expect(paused).toBeInViewport();
  await snap(page, "jobs-live-paused-light", { fullPage: false });
  await setTheme(page, "dark");
  await snap(page, "jobs-live-paused-dark", { fullPage: false });
  await setTheme(page, "light");
  await paused.getByRole("button", { name: "Back to top" }).click();
  await expect(paused).toBeHidden();
  await expect(page.locator('tr[data-record-id="r0"]')).toBeInViewport();
  // live again: the row that was pending shows succeeded
  await box.evaluate((el, i) => el.scrollTo({ top: i * 36 }), pendingNow);
  await expect(page.locator(`tr[data-record-id="r${pendingNow}"]`)).toContainText("succeeded", { timeout: 15_000 });
  await request.post(`/api/batches/${b.id}/cancel`);
});

test("a page still loading when the running batch's rows refresh is loaded, not dropped", async ({ page, request }) => {
  test.setTimeout(90_000);
  // jobs finish every 300 ms, so the live refresh of the loaded rows runs every 2 s (its throttle)
  const b = await createBatch(request, { flow: "echo", parameters: { delay_ms: 300 }, records: inlineRecords(400), concurrency: 1, shuffle: false });
  // the second page always answers 3 s late: a live refresh starts while it is on its way
  await page.route(/\/api\/batches\/[^/]+\/jobs\?.*cursor=Wzk5XQ/, async (route) => {
    await new Promise((r) => setTimeout(r, 3_000));
    await route.continue().catch(() => {}); // the page may have gone at the test's end
  });
  await page.goto(`/batches/${b.id}`);
  await expect(page.locator('tr[data-record-id="r0"]')).toBeVisible();
  await page.getByTestId("jobs-scroll").evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
  // the second page lands (and, still at the bottom, the ones after it)
  await expect(page.locator(".jobs .load-more")).toContainText(/^[234]00 of 400 jobs/, { timeout: 15_000 });
  await request.post(`/api/batches/${b.id}/cancel`);
});
