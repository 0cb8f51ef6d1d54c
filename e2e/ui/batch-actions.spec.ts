import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { createBatch, getBatch, inlineRecords, unique, waitForBatch } from "../fixtures";
import { snap } from "./helpers";

test("cancel a running batch after confirming", async ({ page, request }) => {
  const batch = await createBatch(request, { flow: "sleep", name: unique("ui-cancel"), parameters: { ms: 600_000 }, records: inlineRecords(6), concurrency: 2 });
  await page.goto(`/batches/${batch.id}`);
  await expect(page.getByRole("region", { name: "Progress by status" })).toContainText(/running\s*2/, { timeout: 30_000 });
  await page.getByRole("button", { name: "Cancel batch" }).click();
  const dialog = page.getByRole("dialog", { name: "Cancel this batch?" });
  await expect(dialog).toBeVisible();
  await snap(page, "batch-cancel-dialog", { fullPage: false });
  await dialog.getByRole("button", { name: "Cancel batch" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole("heading", { level: 1 }).getByText("cancelled")).toBeVisible();
  await expect(page.getByText("cancelled by a user")).toBeVisible();
  const after = await waitForBatch(request, batch.id);
  expect(after.status).toBe("cancelled");
  expect(after.progress.succeeded).toBe(0);
  await snap(page, "batch-cancelled");
});

test("retry failed jobs from the batch page and see them succeed once the upstream is back", async ({ page, request }) => {
  // a local stand-in for an outside service: down (503) at first, then back
  let down = true;
  const upstream = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      res.writeHead(down ? 503 : 200, { "content-type": "application/json" });
      res.end(down ? JSON.stringify({ error: "maintenance" }) : JSON.stringify({ ok: true, echo: JSON.parse(body || "null") }));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  const { port } = upstream.address() as AddressInfo;
  try {
    const batch = await createBatch(request, {
      flow: "http",
      name: unique("ui-retry"),
      parameters: { url: `http://127.0.0.1:${port}/score`, method: "POST" },
      records: inlineRecords(5),
      max_retries: 0,
      shuffle: false,
    });
    const done = await waitForBatch(request, batch.id);
    expect(done.progress.failed).toBe(5);

    await page.goto(`/batches/${batch.id}`);
    await page.getByRole("button", { name: "Show failed jobs" }).click();
    await expect(page.getByRole("combobox", { name: "Job status" })).toHaveValue("failed");
    await expect(page.getByRole("table", { name: "Jobs" })).toContainText("503");
    await snap(page, "batch-failed");

    down = false;
    await page.getByRole("button", { name: "Retry failed" }).click();
    const dialog = page.getByRole("dialog", { name: "Retry jobs?" });
    await dialog.getByRole("button", { name: "Retry 5 jobs" }).click();
    await expect(dialog).toBeHidden();
    await expect(page.getByRole("status").filter({ hasText: "5 jobs queued again" })).toBeVisible();
    await expect(page.getByRole("button", { name: "Show succeeded jobs" })).toContainText("5", { timeout: 30_000 });
    await expect(page.getByRole("region", { name: "Progress by status" }).getByRole("progressbar")).toHaveAttribute("aria-valuenow", "100");
    const after = await getBatch(request, batch.id);
    expect(after.progress).toMatchObject({ succeeded: 5, failed: 0 });
  } finally {
    upstream.close();
  }
});

test("cancel a job, retry it with the batch and see it succeed; read a job's result", async ({ page, request }) => {
  const batch = await createBatch(request, {
    flow: "echo",
    name: unique("ui-retry-ok"),
    parameters: { delay_ms: 300 },
    records: inlineRecords(3),
    concurrency: 1,
    shuffle: false,
  });
  // paused, so r2 is still pending when we cancel it
  expect((await request.post(`/api/batches/${batch.id}/pause`)).status()).toBe(200);
  await page.goto(`/batches/${batch.id}`);
  const jobs = page.getByRole("table", { name: "Jobs" });
  await jobs.getByRole("row").filter({ hasText: "r2" }).click();
  const panel = page.getByRole("dialog", { name: "Job r2" });
  await expect(panel).toContainText("pending");
  await panel.getByRole("button", { name: "Cancel job" }).click();
  await expect(panel).toContainText("cancelled");
  await page.getByRole("button", { name: "Close job panel" }).click();

  await page.getByRole("button", { name: "Resume" }).click();
  await page.getByRole("dialog", { name: "Resume this batch?" }).getByRole("button", { name: "Resume" }).click();
  await expect(page.getByRole("heading", { level: 1 }).getByText("completed")).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole("button", { name: "Show cancelled jobs" })).toContainText("1");

  // no job failed: the button offers the cancelled one
  await expect(page.getByRole("button", { name: "Retry failed" })).toHaveCount(0);
  await page.getByRole("button", { name: "Retry cancelled" }).click();
  const dialog = page.getByRole("dialog", { name: "Retry jobs?" });
  await expect(dialog).toContainText("No job failed. 1 cancelled or skipped job goes back to pending");
  await dialog.getByRole("button", { name: "Retry 1 job", exact: true }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole("button", { name: "Show succeeded jobs" })).toContainText("3", { timeout: 30_000 });
  await expect(page.getByRole("region", { name: "Progress by status" }).getByRole("progressbar")).toHaveAttribute("aria-valuenow", "100");

  // open a job and read its result: echo returns the record
  await jobs.getByRole("row").filter({ hasText: "r2" }).click();
  const result = panel.getByRole("group", { name: "Result" });
  await expect(result).toContainText('"record 2"');
  await expect(panel).toContainText("succeeded");
  await snap(page, "job-panel", { fullPage: false });
  await page.keyboard.press("Escape");
  await expect(panel).toBeHidden();
});

test("a batch that does not exist shows a not-found state", async ({ page }) => {
  await page.goto("/batches/batch_does_not_exist");
  await expect(page.getByRole("heading", { name: "Batch not found" })).toBeVisible();
  await snap(page, "batch-not-found");
});

test("a huge result is truncated and the page stays responsive", async ({ page, request }) => {
  const big = "x".repeat(200_000);
  const items = Array.from({ length: 3000 }, (_, i) => ({ i }));
  const batch = await createBatch(request, { flow: "echo", records: [{ id: "huge", big, items }], shuffle: false });
  await waitForBatch(request, batch.id);
  await page.goto(`/batches/${batch.id}`);
  await page.getByRole("table", { name: "Jobs" }).getByRole("row").filter({ hasText: "huge" }).click();
  const result = page.getByRole("dialog", { name: "Job huge" }).getByRole("group", { name: "Result" });
  await expect(result.getByRole("button", { name: /show more \(199,600 more chars\)/ })).toBeVisible();
  // the 3000-item array renders collapsed; opening it shows one page of entries, not all
  await result.getByRole("button", { name: "Expand items" }).click();
  await expect(result.getByRole("button", { name: /show more \(2,950 more\)/ })).toBeVisible();
});
