import { expect, test, type APIRequestContext, type Locator, type Page } from "@playwright/test";
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

// ---- two people on the same Inbox (two browser contexts) ----

const LOCAL_USER = "local (auth off)"; // who answers when authentication is off

/** Waits for the batch's `n` open prompts; returns their ids by record id. */
async function openPrompts(request: APIRequestContext, batchId: string, n: number): Promise<Map<string, string>> {
  return waitUntil(async () => {
    const body = (await (await request.get(`/api/prompts?status=open&batch_id=${batchId}&limit=100`)).json()) as {
      items: { id: string; record_id: string }[];
    };
    return body.items.length === n ? new Map(body.items.map((p) => [p.record_id, p.id])) : undefined;
  }, `${n} open prompts`);
}

async function promptOf(request: APIRequestContext, id: string) {
  return (await (await request.get(`/api/prompts/${id}`)).json()) as { status: string; answer: unknown; record_id: string; answered_by: string | null };
}

/** The answer POSTs a page sends. */
function answerPosts(page: Page): string[] {
  const posts: string[] = [];
  page.on("request", (r) => {
    if (r.method() === "POST" && /\/api\/prompts\/[^/]+\/answer$/.test(new URL(r.url()).pathname)) posts.push(r.url());
  });
  return posts;
}

test("two tabs answer the same card: the second is refused and says who answered, when and what", async ({ browser, request }) => {
  const batch = await createBatch(request, {
    flow: "review",
    name: unique("ui-race"),
    records: [{ id: "race-x", text: "the contested record" }, { id: "race-y", text: "the uncontested record" }],
    interactive: true,
    shuffle: false,
  });
  const x = (await openPrompts(request, batch.id, 2)).get("race-x");
  const a = await (await browser.newContext()).newPage();
  const b = await (await browser.newContext()).newPage();
  await a.goto("/inbox");
  await b.goto("/inbox");
  const cardIn = (page: Page) => page.getByRole("article").filter({ hasText: "the contested record" });
  await expect(cardIn(a)).toBeVisible();
  await expect(cardIn(b)).toBeVisible();

  // tab B is stale: it does not see the open list change until released
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  await b.route(
    (url) => url.pathname === "/api/prompts",
    async (route) => {
      await gate;
      await route.continue().catch(() => {}); // the page may have given up on this request meanwhile
    },
  );

  await cardIn(a).getByRole("radio", { name: /positive/ }).click();
  await cardIn(a).getByRole("button", { name: "Submit answer" }).click();
  await waitUntil(async () => ((await promptOf(request, x!)).status === "answered" ? true : undefined), "tab A's answer stored");

  const cardB = cardIn(b);
  await cardB.getByRole("radio", { name: /negative/ }).click();
  await cardB.getByRole("button", { name: "Submit answer" }).click();
  const refusal = cardB.getByRole("alert");
  await expect(refusal).toContainText(`Already answered by ${LOCAL_USER}`);
  await expect(refusal).toContainText("positive"); // the answer kept
  await expect(refusal).toContainText("negative"); // the answer not saved

  // once tab B's list catches up the refused card stays until dismissed
  const refetched = b.waitForResponse((r) => new URL(r.url()).pathname === "/api/prompts" && r.status() === 200);
  release();
  await refetched;
  await expect(b.getByRole("article").filter({ hasText: "the uncontested record" })).toBeVisible();
  await expect(refusal).toContainText(`Already answered by ${LOCAL_USER}`);
  await snap(b, "inbox-refused");
  await cardB.getByRole("button", { name: "Dismiss" }).click();
  await expect(cardB).toHaveCount(0);

  expect((await promptOf(request, x!)).answer).toBe("positive");
  await a.context().close();
  await b.context().close();
});

test("a card answered in another tab takes no keystroke meant for it, and none lands on the next card", async ({ browser, request }) => {
  const batch = await createBatch(request, {
    flow: "review",
    name: unique("ui-removed"),
    records: [{ id: "gone", text: "one star, awful" }, { id: "next", text: "slides into place" }],
    interactive: true,
    shuffle: false,
  });
  const ids = await openPrompts(request, batch.id, 2);
  const [x, y] = [ids.get("gone"), ids.get("next")];
  const a = await (await browser.newContext()).newPage();
  const b = await (await browser.newContext()).newPage();
  const posts = answerPosts(b);
  await a.goto("/inbox");
  await b.goto("/inbox");
  const cardX = (page: Page) => page.getByRole("article").filter({ hasText: "one star, awful" });
  // tab B focuses the first card of the batch
  await cardX(b).getByRole("heading", { name: /How would you label/ }).click();
  await expect(cardX(b)).toHaveAttribute("aria-current", "true");

  // tab A answers it
  await cardX(a).getByRole("radio", { name: /negative/ }).click();
  await cardX(a).getByRole("button", { name: "Submit answer" }).click();
  await waitUntil(async () => ((await promptOf(request, x!)).status === "answered" ? true : undefined), "tab A's answer stored");
  // tab B learns of it: the card under its cursor no longer takes answers
  await expect(cardX(b).getByRole("button", { name: "Submit answer" })).toHaveCount(0);

  // a second later the person in tab B presses 3 (neutral) and Enter, meant for the card they were on
  const sent = b
    .waitForRequest((r) => r.method() === "POST" && r.url().includes("/answer"), { timeout: 10_000 })
    .then((r) => `sent ${r.postData()} to ${r.url()}`, () => "nothing sent");
  await b.keyboard.press("3");
  await b.keyboard.press("Enter");
  const told = cardX(b)
    .getByText(/not sent/i)
    .waitFor({ timeout: 10_000 })
    .then(() => "told not sent", () => "no message");
  expect(await Promise.race([sent, told])).toBe("told not sent");
  await expect(cardX(b)).toContainText(`answered by ${LOCAL_USER}`);
  expect(posts).toEqual([]);
  const next = await promptOf(request, y!);
  expect(next.status).toBe("open");
  expect(next.answer).toBeNull();
  await expect(b.getByRole("article").filter({ hasText: "slides into place" }).getByRole("radio", { checked: true })).toHaveCount(0);
  expect((await promptOf(request, x!)).answer).toBe("negative");
  await a.context().close();
  await b.context().close();
});

test("30 prompts answered by keyboard alone, without waiting for the server, each stored on its own record", async ({ browser, request }) => {
  test.setTimeout(180_000); // 30 prompts to ask, answer and run again, on a shared machine
  const options = ["positive", "negative", "neutral"];
  const records = Array.from({ length: 30 }, (_, i) => ({ id: `${unique("kb")}-${i}`, text: `keyboard record ${i}` }));
  const batch = await createBatch(request, { flow: "review", name: unique("ui-keyboard"), records, interactive: true, shuffle: false });
  await openPrompts(request, batch.id, 30);
  const watcher = await (await browser.newContext()).newPage(); // a second person with the Inbox open
  const page = await (await browser.newContext()).newPage();
  await watcher.goto("/inbox");
  await page.goto("/inbox");
  const mine = page.getByRole("list", { name: "Open prompts" }).getByRole("article").filter({ hasText: batch.id });
  await expect(mine).toHaveCount(30);
  // prompts other specs left open come first: J until the first of this batch is the active card
  const active = page.locator('article[aria-current="true"]');
  for (let i = 0; i < 100 && !((await active.textContent()) ?? "").includes(batch.id); i++) await page.keyboard.press("j");
  await expect(active).toContainText(batch.id);

  const given = new Map<string, string>();
  for (let i = 0; i < 30; i++) {
    const recordId = await recordIdOf(active);
    const label = options[i % 3]!;
    given.set(recordId, label);
    await page.keyboard.press(String((i % 3) + 1));
    await page.keyboard.press("Enter");
  }
  expect(given.size).toBe(30);
  await expect(mine).toHaveCount(0);
  await expect(watcher.getByRole("article").filter({ hasText: batch.id }).getByRole("button", { name: "Submit answer" })).toHaveCount(0);

  const done = await waitForBatch(request, batch.id);
  expect(done.progress.succeeded).toBe(30);
  const res = await request.get(`/api/batches/${batch.id}/results?format=jsonl`);
  const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l) as { record_id: string; result: { label: string } });
  expect(lines).toHaveLength(30);
  for (const line of lines) expect(line.result.label, line.record_id).toBe(given.get(line.record_id));
  await watcher.context().close();
  await page.context().close();
});
