// The Datasets page's upload of many files: a picked folder (webkitdirectory) or a selection of files
// goes up as one dataset of files, with the count and size shown first and the server's refusal
// naming the file; then an llm batch with files: true reads them through a mock provider.
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { OPENAI_MOCK_PORT } from "../../playwright.config";
import { startOpenAIMock, type OpenAIMock } from "../../test/support/openai-mock";
import { createBatch, unique, waitForBatch } from "../fixtures";
import { setTheme, snap } from "./helpers";

const PDF = Buffer.from("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(40, 7)]);

let mock: OpenAIMock;
test.beforeAll(async () => {
  mock = await startOpenAIMock({ port: OPENAI_MOCK_PORT });
});
test.afterAll(async () => {
  await mock?.close();
});

/** A folder on disk: scans/inv-001.pdf, scans/inv-002.pdf, scans/photo.png, scans/notes/todo.txt. */
function makeFolder(name: string): string {
  const root = path.join(mkdtempSync(path.join(tmpdir(), "bb-e2e-")), name);
  mkdirSync(path.join(root, "notes"), { recursive: true });
  writeFileSync(path.join(root, "inv-001.pdf"), PDF);
  writeFileSync(path.join(root, "inv-002.pdf"), PDF);
  writeFileSync(path.join(root, "photo.png"), PNG);
  writeFileSync(path.join(root, "notes", "todo.txt"), "pay the invoices\n");
  return root;
}

async function shoot(page: Page, name: string) {
  for (const theme of ["light", "dark"] as const) {
    await setTheme(page, theme);
    await expect(page.locator("html")).toHaveAttribute("data-theme", theme);
    await snap(page, `${name}-${theme}`, { fullPage: false });
  }
}

test("a picked folder becomes a dataset of files, and an llm batch with files: true reads each", async ({ page, request }) => {
  const folder = unique("scans");
  const total = PDF.length * 2 + PNG.length + "pay the invoices\n".length;
  await page.goto("/datasets");
  await page.getByLabel("Folder").setInputFiles(makeFolder(folder));
  await expect(page.getByTestId("selected-files")).toHaveText(`4 files (${total} B in all)`);
  await expect(page.getByLabel("Dataset name")).toHaveValue(folder);
  await shoot(page, "dataset-files-selected");
  await page.getByRole("button", { name: "Upload 4 files" }).click();
  const ok = page.getByRole("status").filter({ hasText: "Uploaded" });
  await expect(ok).toContainText(`Uploaded ${folder}: 4 files.`);
  await shoot(page, "dataset-files-uploaded");

  await ok.getByRole("link", { name: folder }).click();
  await expect(page.getByRole("heading", { level: 1, name: folder })).toBeVisible();
  const records = page.getByRole("table", { name: "Records" });
  await expect(records.getByRole("row")).toHaveCount(1 + 4);
  await expect(records).toContainText(`${folder}/notes/todo.txt`);
  await shoot(page, "dataset-files-detail");

  const schema = { type: "object", additionalProperties: false, required: ["summary"], properties: { summary: { type: "string" } } };
  const batch = await createBatch(request, {
    flow: "llm",
    dataset: folder,
    parameters: {
      base_url: `http://127.0.0.1:${OPENAI_MOCK_PORT}/v1`,
      model: "reader",
      files: true,
      user_prompt: "Summarise {{record.filename}}.",
      response_format: { type: "json_schema", name: "doc", schema },
    },
  });
  const done = await waitForBatch(request, batch.id);
  expect(done.progress).toMatchObject({ total: 4, succeeded: 4, failed: 0 });
  const lines = (await (await request.get(`/api/batches/${batch.id}/results`)).text()).trim().split("\n").map((l) => JSON.parse(l));
  expect(Object.fromEntries(lines.map((l) => [l.record_id, l.result.parsed.summary]))).toEqual({
    [`${folder}/inv-001.pdf`]: "summary of inv-001.pdf",
    [`${folder}/inv-002.pdf`]: "summary of inv-002.pdf",
    // no file part: the mock names the prompt, which carries the image or the text after it
    [`${folder}/photo.png`]: "summary of Summarise photo.png.\nimage_url",
    [`${folder}/notes/todo.txt`]: `summary of Summarise todo.txt.\nFile ${folder}/notes/todo.txt:\n\npay the invoices\n`,
  });
  await page.goto(`/batches/${batch.id}`);
  await expect(page.getByRole("table", { name: "Jobs" })).toContainText("inv-002.pdf");
});

test("many picked files upload as one dataset; the server's refusal names the file", async ({ page }) => {
  await page.goto("/datasets");
  await page.getByLabel("Files", { exact: true }).setInputFiles([
    { name: "a.txt", mimeType: "text/plain", buffer: Buffer.from("one") },
    { name: "a.txt", mimeType: "text/plain", buffer: Buffer.from("two") },
  ]);
  await expect(page.getByTestId("selected-files")).toHaveText("2 files (6 B in all)");
  await page.getByLabel("Dataset name").fill(unique("dupes"));
  await page.getByRole("button", { name: "Upload 2 files" }).click();
  const alert = page.getByRole("alert").filter({ hasText: "Upload failed" });
  await expect(alert).toContainText("a.txt");
  await shoot(page, "dataset-files-refused");

  const name = unique("picked");
  await page.getByLabel("Files", { exact: true }).setInputFiles([
    { name: "inv.pdf", mimeType: "application/pdf", buffer: PDF },
    { name: "b.txt", mimeType: "text/plain", buffer: Buffer.from("two") },
  ]);
  await page.getByLabel("Dataset name").fill(name);
  await page.getByRole("button", { name: "Upload 2 files" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Uploaded" })).toContainText(`Uploaded ${name}: 2 files.`);
});

test("dropping several files selects them as files, not as one dataset file", async ({ page }) => {
  await page.goto("/datasets");
  const dt = await page.evaluateHandle(() => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(["%PDF-1.4\n"], "x.pdf", { type: "application/pdf" }));
    transfer.items.add(new File(["hello"], "y.txt", { type: "text/plain" }));
    return transfer;
  });
  await page.getByTestId("dropzone").dispatchEvent("drop", { dataTransfer: dt });
  await expect(page.getByTestId("selected-files")).toHaveText("2 files (14 B in all)");
  await expect(page.getByRole("button", { name: "Upload 2 files" })).toBeEnabled();
});
