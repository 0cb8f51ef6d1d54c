// Every page is served with a Content-Security-Policy whose scripts run only by a per-request
// nonce: no 'unsafe-inline' for scripts, and the pages still work under it (Next.js bootstrap,
// React Query data, the theme script, recharts) with no violation reported. A script in the HTML
// without the nonce, or an inline event handler, does not run.
import { expect, test, type Page } from "@playwright/test";
import { AUTH_PORT } from "../../playwright.config";
import { createBatch, createDataset, inlineRecords, unique, waitForBatch } from "../fixtures";

/** The script-src directive of a policy. */
const scriptSrc = (policy: string) => policy.split(";").map((d) => d.trim()).find((d) => d.startsWith("script-src")) ?? "";

/** Collects what the browser reports against the policy: console lines and securitypolicyviolation events. */
async function watchViolations(page: Page): Promise<string[]> {
  const seen: string[] = [];
  page.on("console", (msg) => {
    if (/Content Security Policy/i.test(msg.text())) seen.push(msg.text());
  });
  await page.exposeFunction("__reportViolation", (line: string) => void seen.push(line));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      (window as unknown as { __reportViolation: (l: string) => void }).__reportViolation(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return seen;
}

async function expectNoncePolicy(page: Page, path: string, base = ""): Promise<string> {
  const res = await page.goto(`${base}${path}`);
  expect(res, path).not.toBeNull();
  const policy = res!.headers()["content-security-policy"] ?? "";
  const scripts = scriptSrc(policy);
  expect(scripts, `${path}: ${policy}`).toMatch(/'nonce-[A-Za-z0-9+/=]{16,}'/);
  expect(scripts, path).not.toContain("'unsafe-inline'");
  expect(scripts, path).not.toContain("'unsafe-eval'");
  return /'nonce-([^']+)'/.exec(scripts)![1]!;
}

/** Next.js's bootstrap ran (it is a nonce'd inline script plus the chunks it loads). */
const hydrated = (page: Page) => page.waitForFunction(() => !!(window as unknown as { next?: { version?: string } }).next?.version);

test("every page carries a nonce policy, renders, and reports no violation", async ({ page, request }) => {
  test.setTimeout(120_000);
  const dataset = await createDataset(request, inlineRecords(6, "c"), unique("csp"));
  const batch = await createBatch(request, { flow: "echo", name: unique("csp-batch"), dataset: dataset.id });
  await waitForBatch(request, batch.id);
  const violations = await watchViolations(page);
  // the theme script reads this before first paint
  await page.addInitScript(() => localStorage.setItem("batchboard-theme", "dark"));

  const pages = ["/", "/batches", `/batches/${batch.id}`, "/batches/new", "/inbox", "/datasets", `/datasets/${dataset.id}`, "/flows", "/workers", "/settings", "/docs", "/signin", "/no/such/page"];
  const nonces = new Set<string>();
  for (const path of pages) {
    nonces.add(await expectNoncePolicy(page, path));
    await hydrated(page);
    await expect(page.locator("html"), path).toHaveAttribute("data-theme", "dark");
    await expect(page.getByRole("heading", { level: 1 }).first(), path).toBeVisible();
    if (path === `/batches/${batch.id}`) {
      // React Query's data and the recharts charts drawn from it
      await expect(page.getByText("Loading charts…")).toHaveCount(0);
      await expect(page.locator(".recharts-surface").first()).toBeVisible();
    }
    if (path === "/batches") await expect(page.getByRole("link", { name: batch.name! })).toBeVisible();
  }
  expect(nonces.size, "a fresh nonce per response").toBe(pages.length);
  expect(violations).toEqual([]);

  // markup that escaped into the page: a script without the nonce, as the server's HTML would carry
  // it, and an inline event handler added later; neither runs, and both are reported
  await page.route("**/batches", async (route) => {
    const res = await route.fetch();
    const body = (await res.text()).replace("</body>", "<script>window.__injected = 1</script></body>");
    await route.fulfill({ response: res, body });
  });
  await page.goto("/batches");
  await hydrated(page);
  await page.evaluate(() =>
    document.body.insertAdjacentHTML("beforeend", `<img src="/favicon.ico?x" onload="window.__handler = 1" onerror="window.__handler = 1">`),
  );
  await expect.poll(() => violations.length).toBeGreaterThanOrEqual(2);
  const ran = await page.evaluate(() => {
    const w = window as unknown as { __injected?: number; __handler?: number };
    return { injected: w.__injected, handler: w.__handler };
  });
  expect(ran).toEqual({ injected: undefined, handler: undefined });
});

test("the sign-in page of a server with auth on carries a nonce policy too", async ({ page }) => {
  const violations = await watchViolations(page);
  await expectNoncePolicy(page, "/signin", `http://localhost:${AUTH_PORT}`);
  await hydrated(page);
  await expect(page.getByLabel("API key")).toBeVisible();
  // a page behind the sign-in redirect gets the policy on the redirect as well
  const redirect = await page.request.get(`http://localhost:${AUTH_PORT}/batches`, { maxRedirects: 0 });
  expect(redirect.status()).toBe(307);
  expect(scriptSrc(redirect.headers()["content-security-policy"] ?? "")).toContain("'nonce-");
  expect(violations).toEqual([]);
});

test("API answers carry a policy that loads nothing", async ({ request }) => {
  const res = await request.get("/api/health");
  expect(res.headers()["content-security-policy"]).toBe("default-src 'none'; frame-ancestors 'none'");
  expect(res.headers()["x-content-type-options"]).toBe("nosniff");
});
