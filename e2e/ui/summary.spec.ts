// A classify batch's results summarised: the batch page charts the label distribution with each
// label's count, numeric fields as a small histogram, and reads a partial success; the CLI prints
// the same figures. Screenshots in light and dark.
import { spawn } from "node:child_process";
import { expect, test, type Page } from "@playwright/test";
import { createBatch, unique, waitForBatch } from "../fixtures";
import { setTheme, snap } from "./helpers";

test.describe.configure({ timeout: 120_000 });

// AFINN reads these as 5 positive, 3 negative and 2 neutral; the two numbers are not text and fail
const TEXTS = [
  ...Array.from({ length: 5 }, (_, i) => `I love this, it is wonderful (${i})`),
  ...Array.from({ length: 3 }, (_, i) => `This is terrible and awful (${i})`),
  ...Array.from({ length: 2 }, (_, i) => `The box is on the table (${i})`),
];
const records = [...TEXTS.map((text, i) => ({ id: `t${i}`, text })), { id: "n1", text: 1 }, { id: "n2", text: 2 }];

const resultsRegion = (page: Page) => page.getByRole("region", { name: "Results summary" });

function cli(args: string[], baseURL: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/batchboard.mjs", ...args], {
      env: { ...process.env, BATCHBOARD_URL: baseURL, BATCHBOARD_TOKEN: "" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout }));
  });
}

test("a classify batch's summary charts each label with its count, and reads the partial success", async ({ page, request, baseURL }) => {
  const created = await createBatch(request, { flow: "classify", name: unique("summary"), records, error_threshold: 0.5, max_retries: 0 });
  const b = await waitForBatch(request, created.id);
  expect(b.status).toBe("completed");
  expect(b.progress).toMatchObject({ succeeded: 10, failed: 2 });

  await page.goto(`/batches/${b.id}`);
  const region = resultsRegion(page);
  const chart = region.getByRole("figure", { name: "Distribution of result.label" });
  await expect(chart).toBeVisible();
  // the label picked by itself for classify, each bar with its count
  await expect(region.getByRole("combobox", { name: "Result field" })).toHaveValue("result.label");
  const rows = chart.getByRole("table").getByRole("row");
  await expect(rows).toHaveText(["positive5", "negative3", "neutral2"]);
  // drawn: each label under its bar and each count above it
  const drawn = () => chart.locator("svg text").allTextContents();
  await expect.poll(drawn).toEqual(expect.arrayContaining(["positive", "negative", "neutral", "5", "3", "2"]));
  await expect(region.getByRole("figure", { name: "Histogram of result.score" })).toBeVisible();
  await expect(region.getByRole("note")).toHaveText(
    "Partial success: 2 of 12 records failed (16%), under the 50% error threshold; the 10 that succeeded are in the results.",
  );

  // picking another field charts its values instead
  await region.getByRole("combobox", { name: "Result field" }).selectOption("result.score");
  await expect(region.getByRole("figure", { name: "Distribution of result.score" })).toBeVisible();
  await region.getByRole("combobox", { name: "Result field" }).selectOption("result.label");
  await expect(chart).toBeVisible();

  for (const theme of ["light", "dark"] as const) {
    await setTheme(page, theme);
    await page.reload();
    await expect(page.locator("html")).toHaveAttribute("data-theme", theme);
    await expect(chart.locator(".recharts-bar-rectangle")).toHaveCount(3);
    await region.scrollIntoViewIfNeeded();
    await snap(page, `summary-classify-${theme}`, { fullPage: false });
    await region.screenshot({ path: `e2e/screenshots/summary-chart-${theme}.png` });
  }

  const run = await cli(["summary", b.id, "--group-by", "result.label", "--stats", "result.score"], baseURL!);
  expect(run.code).toBe(0);
  expect(run.stdout).toContain("partial success: 2 of 12 failed (16%), under the 50% error threshold");
  expect(run.stdout).toMatch(/result\.label {2}\(10 values, 3 distinct\)\n {2}positive {2}5 {2}#+ 50%\n {2}negative {2}3 {2}#+ 30%\n {2}neutral {3}2 {2}#+ 20%/);
});

test("the Results panel asks for the summary once: the fields it charts are chosen in the same request", async ({ page, request }) => {
  const created = await createBatch(request, { flow: "classify", name: unique("summary-once"), records: TEXTS.map((text, i) => ({ id: `t${i}`, text })) });
  const b = await waitForBatch(request, created.id);
  expect(b.status).toBe("completed");
  const asked: string[] = [];
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (url.pathname === `/api/batches/${b.id}/summary`) asked.push(url.search);
  });
  await page.goto(`/batches/${b.id}`);
  const region = resultsRegion(page);
  await expect(region.getByRole("figure", { name: "Distribution of result.label" })).toBeVisible();
  await expect(region.getByRole("figure", { name: "Histogram of result.score" })).toBeVisible();
  await expect(region.getByRole("combobox", { name: "Result field" })).toHaveValue("result.label");
  // a follow-up request would leave as soon as the first answer listed the fields
  await page.waitForTimeout(2_000);
  expect(asked).toEqual(["?auto=true"]);
  // picking a field asks for it (and the numeric fields found: classify's comparative and score), once
  await region.getByRole("combobox", { name: "Result field" }).selectOption("result.score");
  await expect(region.getByRole("figure", { name: "Distribution of result.score" })).toBeVisible();
  await page.waitForTimeout(1_000);
  expect(asked).toEqual(["?auto=true", `?group_by=result.score&stats=${encodeURIComponent("result.comparative,result.score")}`]);
});
