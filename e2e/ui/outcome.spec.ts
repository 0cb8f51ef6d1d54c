// How a batch ended, as the batch page and the batches list show it: a completed batch with failures
// says how many, one whose every record failed is not green, a cancelled one reads the share it
// processed (not 100%), and a stop gives its numbers. Screenshots of each in light and dark.
import { expect, test, type Page } from "@playwright/test";
import { createBatch, getBatch, inlineRecords, unique, waitForBatch, waitUntil, type BatchJson } from "../fixtures";
import { setTheme, snap } from "./helpers";

// each test runs a batch to its end, then photographs the page in both themes
test.describe.configure({ timeout: 120_000 });

const header = (page: Page) => page.getByRole("heading", { level: 1 });
const summary = (page: Page) => page.getByRole("region", { name: "Progress by status" });

/** The batch's row in the batches list, found by its name. */
async function listRow(page: Page, name: string) {
  await page.goto("/batches");
  await page.getByRole("searchbox", { name: "Search batches" }).fill(name);
  const row = page.getByRole("row").filter({ hasText: name });
  await expect(row).toHaveCount(1);
  return row;
}

async function shoot(page: Page, url: string, name: string) {
  for (const theme of ["light", "dark"] as const) {
    await page.goto(url);
    await setTheme(page, theme);
    await page.reload();
    await expect(page.locator("html")).toHaveAttribute("data-theme", theme);
    await expect(page.getByText(/^Loading/)).toHaveCount(0);
    await snap(page, `${name}-${theme}`, { fullPage: false });
  }
}

test("a completed batch with failures says how many failed, and one where every record failed is not a green completed", async ({ page, request }) => {
  const some = await createBatch(request, {
    flow: "chaos",
    name: unique("some-failed"),
    records: inlineRecords(40),
    parameters: { failure_rate: 0.3, seed: "outcome" },
    max_retries: 0,
  });
  const all = await createBatch(request, { flow: "review", name: unique("all-failed"), records: inlineRecords(5) });
  const [s, a] = [await waitForBatch(request, some.id), await waitForBatch(request, all.id)];
  expect([s.status, a.status]).toEqual(["completed", "completed"]);
  expect(s.progress.failed).toBeGreaterThan(0);
  expect(s.progress.succeeded).toBeGreaterThan(0);

  await page.goto(`/batches/${some.id}`);
  await expect(header(page)).toContainText(`completed · ${s.progress.failed} failed`);
  await expect(header(page).locator(".badge")).not.toHaveClass(/status-completed/);

  await page.goto(`/batches/${all.id}`);
  const badge = header(page).locator(".badge");
  await expect(badge).toHaveText("completed · all 5 failed");
  await expect(badge).toHaveClass(/status-failed/);
  await expect(badge).not.toHaveClass(/status-completed/);

  const row = await listRow(page, all.name!);
  await expect(row.locator(".badge")).toHaveText("completed · all 5 failed");
  await shoot(page, `/batches/${some.id}`, "outcome-completed-with-failures");
});

test("a batch cancelled part-way reads the share it processed, never 100% of all finished", async ({ page, request }) => {
  const created = await createBatch(request, {
    flow: "echo",
    name: unique("cancel-part-way"),
    records: inlineRecords(20),
    parameters: { delay_ms: 250 },
    concurrency: 1,
    shuffle: false,
  });
  await waitUntil(async () => ((await getBatch(request, created.id)).progress.succeeded >= 4 ? true : undefined), "4 records done");
  const res = await request.post(`/api/batches/${created.id}/cancel`);
  expect(res.status()).toBe(200);
  const b = (await res.json()) as BatchJson & { outcome: { kind: string; processed: number; total: number; percent: number } };
  expect(b.outcome.kind).toBe("cancelled_at");
  const { processed, percent } = b.outcome;
  expect(processed).toBeGreaterThanOrEqual(4);
  expect(processed).toBeLessThan(20);
  const share = `${Math.floor(percent)}%`;

  await page.goto(`/batches/${created.id}`);
  await expect(header(page).locator(".badge")).toHaveText(`cancelled at ${share}`);
  await expect(summary(page)).toContainText(`cancelled at ${share} (${processed} of 20 processed)`);
  await expect(summary(page)).not.toContainText("100%");
  await expect(summary(page)).not.toContainText("20 of 20 finished");
  await expect(summary(page).getByRole("progressbar")).toHaveAttribute("aria-valuenow", String(Math.floor(percent)));
  // the cancelled part of the bar is labelled as such
  await expect(summary(page).getByRole("progressbar")).toHaveAttribute("aria-valuetext", new RegExp(`${20 - processed} cancelled \\(not run\\)`));
  await expect(page.getByRole("note")).toContainText(`Cancelled by a user at ${share} (${processed} of 20 processed)`);

  const row = await listRow(page, created.name!);
  await expect(row.locator(".badge")).toHaveText(`cancelled at ${share}`);
  await expect(row.getByRole("progressbar")).toHaveAttribute("aria-valuenow", String(Math.floor(percent)));
  await expect(row).toContainText(`${processed}/20 processed`);
  await shoot(page, `/batches/${created.id}`, "outcome-cancelled-part-way");
});

test("a batch stopped by its error threshold says which rate passed which threshold", async ({ page, request }) => {
  const created = await createBatch(request, {
    flow: "chaos",
    name: unique("threshold"),
    records: inlineRecords(200),
    parameters: { failure_rate: 0.6, seed: "threshold" },
    max_retries: 0,
    concurrency: 2,
    error_threshold: { rate: 0.2, min_finished: 10 },
  });
  const done = (await waitForBatch(request, created.id)) as BatchJson & {
    outcome: { kind: string; processed: number; stop: { reason: string; failed: number; finished: number; rate: number; threshold: number } };
  };
  expect(done.status).toBe("failed");
  expect(done.outcome.kind).toBe("stopped");
  const { stop } = done.outcome;
  expect(stop.reason).toBe("error_threshold");
  expect(stop.threshold).toBe(0.2);
  expect(stop.finished).toBeGreaterThanOrEqual(10);

  await page.goto(`/batches/${created.id}`);
  await expect(header(page).locator(".badge")).toHaveText("stopped: error threshold");
  await expect(page.getByRole("note")).toContainText(
    `Stopped: ${stop.failed} of ${stop.finished} finished records failed (${Math.round(stop.rate * 100)}%), at or past the error threshold of 20%`,
  );
  await expect(summary(page)).toContainText(`(${done.outcome.processed} of 200 processed)`);
  await shoot(page, `/batches/${created.id}`, "outcome-stopped-threshold");
});
