import { expect, test, type Locator } from "@playwright/test";
import { createBatch, unique, waitForBatch, waitUntil } from "../fixtures";
import { snap } from "./helpers";

async function recordIdOf(card: Locator): Promise<string> {
  const text = await card.locator(".prompt-meta .mono").textContent();
  return (text ?? "").trim();
}

test("answer prompts in the Inbox by mouse and by keyboard, and the batch finishes", async ({ page, request }) => {
  const records = ["a", "b", "c", "d"].map((id) => ({ id: `${id}-${unique("rv")}`, text: `review me ${id}` }));
  const batch = await createBatch(request, { flow: "review", name: unique("ui-review"), records, interactive: true, shuffle: false });
  await waitUntil(async () => {
    const res = await request.get(`/api/prompts?status=open&batch_id=${batch.id}`);
    const body = (await res.json()) as { total: number };
    return body.total === 4 ? true : undefined;
  }, "4 open prompts");

  // prompts other specs left open count in the nav badge too
  const openTotal = ((await (await request.get("/api/prompts?status=open")).json()) as { total: number }).total;
  const others = openTotal - 4;

  await page.goto("/inbox");
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByTestId("inbox-count")).toHaveText(String(others + 4));
  const cards = page.getByRole("list", { name: "Open prompts" }).getByRole("article");
  // other specs may leave prompts open: only this batch's cards count here
  const mine = cards.filter({ hasText: batch.id });
  await expect(mine).toHaveCount(4);
  await expect(mine.first()).toContainText("How would you label this record?");
  await expect(mine.first()).toContainText("review me");
  await snap(page, "inbox");

  const answers = new Map<string, string>();

  // 1. by mouse: pick an option, submit
  const first = mine.first();
  answers.set(await recordIdOf(first), "positive");
  await first.getByRole("radio", { name: /positive/ }).click();
  await first.getByRole("button", { name: "Submit answer" }).click();
  await expect(mine).toHaveCount(3);
  await expect(nav.getByTestId("inbox-count")).toHaveText(String(others + 3));

  // 2. by keyboard: the next prompt is active; 2 picks "negative", Enter submits
  const second = mine.first();
  await expect(second).toHaveAttribute("aria-current", "true");
  answers.set(await recordIdOf(second), "negative");
  await page.keyboard.press("2");
  await expect(second.getByRole("radio", { name: /negative/ })).toHaveAttribute("aria-checked", "true");
  await page.keyboard.press("Enter");
  await expect(mine).toHaveCount(2);

  // 3. J moves down, K back up
  await expect(mine.first()).toHaveAttribute("aria-current", "true");
  await page.keyboard.press("j");
  await expect(mine.nth(1)).toHaveAttribute("aria-current", "true");
  answers.set(await recordIdOf(mine.nth(1)), "neutral");
  await page.keyboard.press("3");
  await page.keyboard.press("Enter");
  await expect(mine).toHaveCount(1);
  await page.keyboard.press("k");
  await expect(mine.first()).toHaveAttribute("aria-current", "true");
  answers.set(await recordIdOf(mine.first()), "positive");
  await page.keyboard.press("1");
  await page.keyboard.press("Enter");
  await expect(mine).toHaveCount(0);
  if (others === 0) {
    await expect(nav.getByTestId("inbox-count")).toHaveCount(0);
    await expect(page.getByRole("heading", { name: "No open prompts" })).toBeVisible();
  } else {
    await expect(nav.getByTestId("inbox-count")).toHaveText(String(others));
  }

  const done = await waitForBatch(request, batch.id);
  expect(done.status).toBe("completed");
  expect(done.progress.succeeded).toBe(4);
  for (const [recordId, label] of answers) {
    const res = await request.get(`/api/batches/${batch.id}/jobs/${encodeURIComponent(recordId)}`);
    const job = (await res.json()) as { result: { label: string } };
    expect(job.result.label, recordId).toBe(label);
  }
  await page.goto(`/batches/${batch.id}`);
  await expect(page.getByRole("heading", { level: 1 }).getByText("completed")).toBeVisible();
});

test("a free-text answer is validated before it is sent", async ({ page, request }) => {
  // an empty answer is caught in the browser; a typed label not among the options is accepted
  const batch = await createBatch(request, {
    flow: "review",
    name: unique("ui-review-free"),
    records: [{ id: unique("free"), text: "free text" }],
    interactive: true,
    parameters: { allow_free_text: true },
  });
  await page.goto("/inbox");
  const card = page.getByRole("article").filter({ hasText: batch.id });
  await expect(card).toBeVisible({ timeout: 30_000 });
  await card.getByRole("button", { name: "Submit answer" }).click();
  await expect(card.getByRole("alert")).toHaveText("Pick an option");
  await card.getByLabel("Other answer").fill("mixed feelings");
  await card.getByLabel("Other answer").press("Enter");
  await expect(card).toHaveCount(0);
  const done = await waitForBatch(request, batch.id);
  expect(done.progress.succeeded).toBe(1);
});
