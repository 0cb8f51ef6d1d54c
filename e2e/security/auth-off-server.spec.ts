// A server with BATCHBOARD_AUTH=off (the e2e server) listens on 127.0.0.1 only, answers only to
// loopback host names, refuses a cross-origin page's mutation, and does not let X-Forwarded-For or a
// client-sent copy of its address header pick the rate-limit key. The server with auth on trusts a
// proxy (BATCHBOARD_TRUST_PROXY=1 in playwright.config.ts): there X-Forwarded-For is the address the
// auth throttle counts.
import http from "node:http";
import net from "node:net";
import os from "node:os";
import { expect, test } from "@playwright/test";
import { AUTH_PORT } from "../../playwright.config";
import { unique, waitUntil } from "../fixtures";

const PORT = Number(process.env.E2E_PORT ?? 3100);
/** a page on another local origin, as in a drive-by attack on a developer's machine */
const FOREIGN_PORT = PORT + 35;

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function getWithHost(host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port: PORT, path: "/api/health", headers: { host } }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once("error", reject);
  });
}

test("listens on 127.0.0.1 only", async () => {
  expect(await connects("127.0.0.1", PORT)).toBe(true);
  // every other address of this machine: the rest of 127/8, and the network interfaces
  const others = ["127.0.0.2", ...Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).filter((a) => !a.internal && a.family === "IPv4").map((a) => a.address))];
  for (const address of others) expect(await connects(address, PORT), address).toBe(false);
});

test("answers only to loopback host names", async () => {
  for (const host of [`localhost:${PORT}`, `127.0.0.1:${PORT}`, `[::1]:${PORT}`, "localhost"]) expect((await getWithHost(host)).status, host).toBe(200);
  for (const host of [`evil.example:${PORT}`, "rebound.attacker.test", `192.168.1.5:${PORT}`]) {
    const res = await getWithHost(host);
    expect(res.status, host).toBe(403);
    expect(JSON.parse(res.body).error.code).toBe("forbidden");
  }
});

test("a page on another origin cannot create a dataset with a no-cors text/plain POST", async ({ page, request }) => {
  const name = unique("drive-by");
  const html = `<!doctype html><script>
    fetch("http://localhost:${PORT}/api/datasets", { method: "POST", mode: "no-cors", headers: { "Content-Type": "text/plain" },
      body: JSON.stringify({ name: "${name}", records: [{ id: "a", text: "x" }] }) }).finally(() => { document.title = "sent"; });
  </script>`;
  const server = http.createServer((_, res) => res.writeHead(200, { "content-type": "text/html" }).end(html));
  await new Promise<void>((resolve) => server.listen(FOREIGN_PORT, "127.0.0.1", resolve));
  try {
    const answered = page.waitForResponse((r) => r.url().endsWith("/api/datasets") && r.request().method() === "POST");
    await page.goto(`http://127.0.0.1:${FOREIGN_PORT}/`);
    expect((await answered).status()).toBe(403);
    await expect(page).toHaveTitle("sent");
  } finally {
    server.close();
  }
  const list = await (await request.get("/api/datasets?limit=200")).json();
  expect(JSON.stringify(list)).not.toContain(name);
});

test("X-Forwarded-For and a forged address header do not pick the rate-limit key", async ({ request }) => {
  // 50 mutations a second with bursts of 100 per caller: 300 at once from one address must hit the limit
  const answers = await Promise.all(
    Array.from({ length: 300 }, (_, i) =>
      request.post("/api/batches", {
        data: {},
        headers: { "x-forwarded-for": `10.3.${i >> 8}.${i & 255}`, "x-batchboard-client-address": `10.4.${i >> 8}.${i & 255}` },
      }),
    ),
  );
  const statuses = answers.map((r) => r.status());
  expect(statuses.filter((s) => s === 429).length, "some of 300 mutations from one address are limited").toBeGreaterThan(0);
  expect(statuses.every((s) => s === 422 || s === 429)).toBe(true);
  // leave the bucket full for the specs after this one
  await waitUntil(async () => ((await request.post("/api/batches", { data: {} })).status() === 422 ? true : undefined), "the rate limit to refill", 20_000);
});

test("behind a trusted proxy, the auth throttle counts the address the proxy appended", async ({ playwright }) => {
  const api = await playwright.request.newContext({ baseURL: `http://localhost:${AUTH_PORT}` });
  try {
    const attempt = (forwardedFor: string) => api.get("/api/batches", { headers: { authorization: "Bearer bb_wrong_key", "x-forwarded-for": forwardedFor } });
    const first: number[] = [];
    for (let i = 0; i < 12; i++) first.push((await attempt(`203.0.113.${i}, 198.51.100.${PORT % 250}`)).status());
    expect(first.slice(0, 10)).toEqual(Array(10).fill(401));
    const limited = await attempt(`198.51.100.${PORT % 250}`);
    expect(limited.status()).toBe(429);
    expect(limited.headers()["retry-after"]).toMatch(/^\d+$/);
    expect((await limited.json()).error.code).toBe("rate_limited");
    // another client of the same proxy is not held back
    expect((await attempt(`198.51.100.${(PORT % 250) + 1}`)).status()).toBe(401);
  } finally {
    await api.dispose();
  }
});
