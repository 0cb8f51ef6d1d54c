// A batch in provider_batch mode in the browser, against the shared mock of a provider's batch tier
// (OpenAI's files + batches endpoints) on 127.0.0.1: the New batch form's hint for the mode, the
// batch page's Provider batches card (provider id, status, counts, times) and "at the provider" in
// its progress while the provider works; once the mock ends the provider batch, the jobs finish and
// the job panel shows the result and, with save_raw, the provider's response.
import { expect, test } from "@playwright/test";
import { startProviderBatchesMock, type ProviderBatchesMock } from "../../test/support/provider-batches-mock";
import { createBatch, getBatch, unique } from "../fixtures";
import { setTheme, snap } from "./helpers";

let mock: ProviderBatchesMock;
test.beforeAll(async () => {
  mock = await startProviderBatchesMock();
});
test.afterAll(async () => {
  await mock?.close();
});

test("the New batch form says what provider_batch mode does, and offers its chunk sizes", async ({ page }) => {
  await page.goto("/batches/new");
  await page.getByRole("combobox", { name: "Flow", exact: true }).selectOption("llm");
  await expect(page.getByLabel("Chunk size")).toHaveCount(0);
  await expect(page.getByRole("note", { name: "Provider batch mode" })).toHaveCount(0);
  await page.getByRole("combobox", { name: /^mode/ }).selectOption("provider_batch");
  const note = page.getByRole("note", { name: "Provider batch mode" });
  await expect(note).toContainText("half the price");
  await expect(note).toContainText("within the provider's window");
  await expect(note).toContainText("holding no worker slot");
  const chunk = page.getByLabel("Chunk size");
  await expect(chunk).toHaveAttribute("min", "2");
  await expect(chunk).toHaveAttribute("max", "50000");
  await expect(page.getByText("records per call, 2–50000; blank: 1000")).toBeVisible();
  await snap(page, "new-batch-provider-batch-light");
  await setTheme(page, "dark");
  await snap(page, "new-batch-provider-batch-dark");
  await setTheme(page, "light");
});

test("the batch page shows its provider batch while the provider works, then each job's result and raw response", async ({ page, request }) => {
  mock.pollsToEnd = Infinity;
  mock.answer = (line) => {
    const text = String((line.body.messages as { content: string }[]).at(-1)!.content);
    return { status_code: 200, body: { id: `chatcmpl-${line.custom_id}`, object: "chat.completion", model: "gpt-e2e", choices: [{ index: 0, message: { role: "assistant", content: `summary of ${text}` }, finish_reason: "stop" }], usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 } } };
  };
  const name = unique("ui-provider-batch");
  const records = Array.from({ length: 6 }, (_, i) => ({ id: `p${i}`, text: `note ${i}` }));
  const batch = await createBatch(request, {
    flow: "llm",
    name,
    records,
    shuffle: false,
    chunk_size: 4,
    save_raw: true,
    parameters: { mode: "provider_batch", model: "gpt-e2e", base_url: mock.openaiUrl, user_prompt: "{{record.text}}", prices: { input_per_1m: 1, output_per_1m: 2 } },
  });
  const id = batch.id;
  await page.goto(`/batches/${id}`);
  await expect(page.getByRole("heading", { level: 1, name: new RegExp(name) })).toBeVisible();

  const card = page.getByRole("region", { name: "Provider batches" });
  await expect(card.getByRole("row")).toHaveCount(3, { timeout: 30_000 }); // a head row and two provider batches (4 + 2)
  const ids = [...mock.batches.values()].filter((b) => b.requests.some((r) => String((r.body.messages as { content: string }[]).at(-1)!.content).startsWith("note "))).map((b) => b.id);
  expect(ids).toHaveLength(2);
  for (const pid of ids) await expect(card).toContainText(pid);
  const rows = card.getByRole("row");
  await expect(rows.filter({ hasText: ids[0]! })).toContainText(/In progress/i);
  await expect(rows.filter({ hasText: ids[0]! })).toContainText("openai");
  await expect(card).toContainText("next poll");
  const progress = page.getByRole("progressbar", { name: "Progress" }).first();
  await expect(progress).toHaveAttribute("aria-valuetext", /6 at the provider/);
  await expect(page.getByRole("button", { name: "Show waiting provider jobs" })).toHaveText("at the provider 6");
  await snap(page, "batch-provider-batches-waiting-light");
  await setTheme(page, "dark");
  await snap(page, "batch-provider-batches-waiting-dark");
  await setTheme(page, "light");

  // the provider finishes: the next poll reads the output, the jobs wake and succeed
  mock.pollsToEnd = 0;
  await expect.poll(async () => (await getBatch(request, id)).status, { timeout: 30_000 }).toBe("completed");
  await expect(rows.filter({ hasText: ids[0]! })).toContainText(/Completed/i);
  // each provider batch's records all succeeded (4 and 2, in whichever order they went)
  for (const pid of ids) await expect(rows.filter({ hasText: pid }).getByRole("cell").nth(3)).toHaveText(String(mock.batches.get(pid)!.requests.length));
  expect(ids.map((pid) => mock.batches.get(pid)!.requests.length).sort()).toEqual([2, 4]);
  await expect(card).not.toContainText("next poll");

  await page.getByRole("table", { name: "Jobs" }).getByRole("row").filter({ hasText: "p1" }).click();
  const panel = page.getByRole("dialog", { name: "Job p1" });
  await expect(panel).toContainText("summary of note 1");
  const raw = panel.getByRole("region", { name: "Provider response" });
  await expect(raw).toContainText("HTTP 200");
  await expect(raw).toContainText(`chatcmpl-job-`);
  // the page under the panel, and the panel at its provider response (a full-page shot would tear the fixed panel)
  await raw.scrollIntoViewIfNeeded();
  await snap(page, "batch-provider-batches-done-light", { fullPage: false });
  await setTheme(page, "dark");
  await snap(page, "batch-provider-batches-done-dark", { fullPage: false });
  await setTheme(page, "light");
  await request.delete(`/api/batches/${id}`);
});
