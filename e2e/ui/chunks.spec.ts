// A chunked batch from the New batch form: the Chunk size field shows only for flows that chunk, the
// batch runs against an OpenAI-compatible mock on 127.0.0.1 in requests of at most that many inputs,
// and the batch page shows the chunk size (Configuration, the Rate card).
import { expect, test } from "@playwright/test";
import { OPENAI_MOCK_KEYS, OPENAI_MOCK_PORT } from "../../playwright.config";
import { startOpenAIMock, type OpenAIMock } from "../../test/support/openai-mock";
import { getBatch, unique } from "../fixtures";

let mock: OpenAIMock;
test.beforeAll(async () => {
  mock = await startOpenAIMock({ port: OPENAI_MOCK_PORT, keys: { "/v1/": OPENAI_MOCK_KEYS.default, "/emb/v1/": OPENAI_MOCK_KEYS.embeddings } });
});
test.afterAll(async () => {
  await mock?.close();
});

test("the Chunk size field runs an embed batch in requests of that many inputs; the batch page shows it", async ({ page, request }) => {
  const name = unique("ui-chunks");
  await page.goto("/batches/new");
  const flow = page.getByRole("combobox", { name: "Flow", exact: true });
  await flow.selectOption("echo");
  await expect(page.getByLabel("Chunk size")).toHaveCount(0);
  await flow.selectOption("embed");
  await expect(page.getByLabel("Chunk size")).toBeVisible();

  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("textbox", { name: /^model/ }).fill("e2e-emb-small");
  await page.getByRole("radio", { name: /Paste or upload records/ }).check();
  const records = Array.from({ length: 12 }, (_, i) => ({ id: `c${i}`, text: "x".repeat(i + 1) }));
  await page.getByRole("textbox", { name: "Records", exact: true }).fill(JSON.stringify(records));
  await page.getByLabel("Concurrency").fill("2");
  await page.getByLabel("Chunk size").fill("5");
  await page.getByRole("button", { name: "Launch batch" }).click();

  await expect(page.getByRole("heading", { level: 1, name: new RegExp(name) })).toBeVisible();
  const id = new URL(page.url()).pathname.split("/").pop()!;
  await expect(page.getByRole("region", { name: "Rate", exact: true })).toContainText("5 records per call");
  await page.getByText("Configuration", { exact: true }).click();
  const options = page.getByRole("region", { name: "Options", exact: true });
  await expect(options.getByRole("term").filter({ hasText: /^chunk_size$/ }).locator("xpath=following-sibling::dd[1]")).toHaveText("5");

  await expect.poll(async () => (await getBatch(request, id)).status, { timeout: 30_000 }).toBe("completed");
  const batch = await getBatch(request, id);
  expect(batch.options.chunk_size).toBe(5);
  expect(batch.progress).toMatchObject({ total: 12, succeeded: 12 });
  const arrays = mock.requests.filter((r) => r.path.endsWith("/embeddings")).map((r) => (r.body as { input: unknown }).input).filter(Array.isArray);
  expect(arrays.length).toBeGreaterThanOrEqual(3);
  expect(arrays.every((a) => a.length <= 5)).toBe(true);
  await request.delete(`/api/batches/${id}`);
});
