import { expect, test } from "@playwright/test";
import { createBatch, inlineRecords, unique } from "../fixtures";
import { snap } from "./helpers";

test("launch a batch from the form and watch it reach 100%", async ({ page }) => {
  const name = unique("ui-launch");
  await page.goto("/batches/new");
  await expect(page.getByRole("heading", { level: 1, name: "New batch" })).toBeVisible();
  await page.getByRole("combobox", { name: "Flow", exact: true }).selectOption("echo");
  // the parameter form is generated from the flow's JSON Schema
  await expect(page.getByRole("spinbutton", { name: /delay_ms/ })).toHaveValue("0");
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("radio", { name: /Paste or upload records/ }).check();
  const records = Array.from({ length: 12 }, (_, i) => JSON.stringify({ id: `row-${i}`, text: `hello ${i}` })).join("\n");
  await page.getByRole("textbox", { name: "Records", exact: true }).fill(records);
  await expect(page.getByText("12 records (jsonl)")).toBeVisible();
  await page.getByLabel("Concurrency").fill("4");
  await snap(page, "new-batch-filled");
  await page.getByRole("button", { name: "Launch batch" }).click();

  await expect(page).toHaveURL(/\/batches\/[^/]+$/);
  await expect(page.getByRole("heading", { level: 1, name: new RegExp(name) })).toBeVisible();
  const progress = page.getByRole("region", { name: "Progress by status" }).getByRole("progressbar");
  await expect(progress).toHaveAttribute("aria-valuenow", "100", { timeout: 45_000 });
  await expect(page.getByRole("heading", { level: 1 }).getByText("completed")).toBeVisible();
  await expect(page.getByRole("table", { name: "Jobs" }).getByRole("row")).toHaveCount(13);
  await snap(page, "batch-completed");

  // keyboard: Enter opens a job, J moves to the next one with the panel following
  const rows = page.getByRole("table", { name: "Jobs" }).getByRole("row");
  const idOf = async (i: number) => ((await rows.nth(i).locator("td.cell-record").textContent()) ?? "").trim();
  await rows.nth(1).focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("dialog", { name: `Job ${await idOf(1)}` })).toBeVisible();
  await page.keyboard.press("j");
  await expect(page.getByRole("dialog", { name: `Job ${await idOf(2)}` })).toBeVisible();
  await expect(page.getByRole("dialog", { name: `Job ${await idOf(2)}` }).getByRole("group", { name: "Result" })).toContainText("hello");
  await page.keyboard.press("Escape");

  // and the list shows it
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Batches" }).click();
  const row = page.getByRole("row").filter({ hasText: name });
  await expect(row).toContainText("completed");
  await expect(row.getByRole("progressbar")).toHaveAttribute("aria-valuenow", "100");
});

test("the API's 422 details appear at the matching fields", async ({ page }) => {
  await page.goto("/batches/new");
  await page.getByRole("combobox", { name: "Flow", exact: true }).selectOption("http");
  await page.getByRole("radio", { name: /Paste or upload records/ }).check();
  await page.getByRole("textbox", { name: "Records", exact: true }).fill('[{"id":"a"},{"id":"b"}]');
  const url = page.getByRole("textbox", { name: /^url/ });
  const fieldOf = (control: ReturnType<typeof page.getByLabel>) => page.locator(".field").filter({ has: control });

  // a required parameter left empty is caught before sending
  await page.getByRole("button", { name: "Launch batch" }).click();
  await expect(fieldOf(url).getByRole("alert")).toHaveText("Required");

  // an option out of the API schema's range is refused in the browser, in the API's words
  await url.fill("http://example.invalid/hook");
  await page.getByLabel("Concurrency").fill("5000");
  await page.getByRole("button", { name: "Launch batch" }).click();
  await expect(fieldOf(page.getByLabel("Concurrency")).getByRole("alert")).toContainText("1000");
  await expect(page.getByLabel("Concurrency")).toHaveValue("5000");

  // a parameter only the flow's own check refuses: the API's details land at the field they name

  await page.getByLabel("Concurrency").fill("5");
  await url.fill("ftp://example.invalid/");
  await page.getByRole("button", { name: "Launch batch" }).click();
  await expect(fieldOf(url).getByRole("alert")).toContainText("http");
  await expect(fieldOf(page.getByLabel("Concurrency")).getByRole("alert")).toHaveCount(0);
  await expect(page).toHaveURL(/\/batches\/new$/);
  await snap(page, "new-batch-errors");
});

test("out-of-range parameters are caught in the browser", async ({ page }) => {
  await page.goto("/batches/new");
  await page.getByRole("combobox", { name: "Flow", exact: true }).selectOption("echo");
  await page.getByRole("spinbutton", { name: /delay_ms/ }).fill("99999999");
  await page.getByRole("button", { name: "Launch batch" }).click();
  await expect(page.locator(".field").filter({ has: page.getByRole("spinbutton", { name: /delay_ms/ }) }).getByRole("alert")).toHaveText(
    "Must be at most 3600000",
  );
  await expect(page.getByRole("alert").filter({ hasText: "Fix the highlighted fields." })).toBeVisible();
  await expect(page).toHaveURL(/\/batches\/new$/);
});

test("a dry run runs only the first 10 records", async ({ page }) => {
  await page.goto("/batches/new");
  await page.getByRole("combobox", { name: "Flow", exact: true }).selectOption("echo");
  await page.getByRole("radio", { name: /Paste or upload records/ }).check();
  await page.getByRole("textbox", { name: "Records", exact: true }).fill(Array.from({ length: 25 }, (_, i) => `line ${i}`).join("\n"));
  await page.getByRole("button", { name: /Dry run/ }).click();
  await expect(page).toHaveURL(/\/batches\/[^/]+$/);
  await expect(page.getByText("dry run").first()).toBeVisible();
  await expect(page.getByRole("region", { name: "Progress by status" })).toContainText("of 10 finished", { timeout: 45_000 });
});

test("when the event streams fail, an active batch falls back to polling", async ({ page, request }) => {
  await page.route(/\/api\/(batches\/[^/]+\/)?events$/, (route) => route.abort("connectionrefused"));
  const batch = await createBatch(request, { flow: "echo", parameters: { delay_ms: 300 }, records: inlineRecords(8), concurrency: 2 });
  // paused, so it is still active when the page opens
  expect((await request.post(`/api/batches/${batch.id}/pause`)).status()).toBe(200);
  await page.goto(`/batches/${batch.id}`);
  await expect(page.getByText("polling", { exact: true })).toBeVisible();
  expect((await request.post(`/api/batches/${batch.id}/resume`)).status()).toBe(200);
  await expect(page.getByRole("region", { name: "Progress by status" }).getByRole("progressbar")).toHaveAttribute("aria-valuenow", "100", {
    timeout: 45_000,
  });
  await expect(page.getByText("finished", { exact: true })).toBeVisible();
});

test("picking a flow that asks a human turns Interactive on, and says before launch when every record would fail", async ({ page }) => {
  await page.goto("/batches/new");
  const interactive = page.getByRole("checkbox", { name: "Interactive" });
  await page.getByRole("combobox", { name: "Flow", exact: true }).selectOption("echo");
  await expect(interactive).not.toBeChecked();
  await page.getByRole("combobox", { name: "Flow", exact: true }).selectOption("review");
  await expect(interactive).toBeChecked();
  const warning = page.getByRole("alert").filter({ hasText: "input_required" });
  await expect(warning).toHaveCount(0);

  // not interactive and no default label: every record would fail, and the form says so
  await interactive.uncheck();
  await expect(warning).toContainText("Every record will fail with input_required");
  await snap(page, "new-batch-input-required");
  await page.getByRole("textbox", { name: /^default_label/ }).fill("neutral");
  await expect(warning).toHaveCount(0);
  await page.getByRole("textbox", { name: /^default_label/ }).fill("");
  await expect(warning).toBeVisible();
  await interactive.check();
  await expect(warning).toHaveCount(0);
});
