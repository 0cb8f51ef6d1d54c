// A server with BATCHBOARD_AUTH=off (the e2e server) listens on 127.0.0.1 only, answers only to
// loopback host names, refuses a cross-origin page's mutation, and does not let X-Forwarded-For or a
// client-sent copy of its address header pick the address the auth throttle counts (shown on the
// server with auth on, which trusts no proxy).
import http from "node:http";
import net from "node:net";
import os from "node:os";
import { expect, test } from "@playwright/test";
import { AUTH_PORT } from "../../playwright.config";
import { unique } from "../fixtures";

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

/** GET /api/batches on the auth-on server with a wrong key, from a socket bound to `localAddress`. */
function wrongKeyFrom(localAddress: string, headers: Record<string, string>): Promise<{ status: number; retryAfter?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: "127.0.0.1", port: AUTH_PORT, localAddress, path: "/api/batches", headers: { authorization: "Bearer bb_wrong_key", ...headers } },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"] as string | undefined, body }));
      },
    );
    req.once("error", reject);
  });
}

test("without BATCHBOARD_TRUST_PROXY neither X-Forwarded-For nor a forged address header buys a fresh throttle count", async () => {
  // from 127.0.0.2, so the throttle this spec trips holds back no other spec (they come from 127.0.0.1)
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) {
    const forged = { "x-forwarded-for": `10.5.0.${i}`, "x-batchboard-client-address": `10.6.0.${i}`, forwarded: `for=10.7.0.${i}` };
    statuses.push((await wrongKeyFrom("127.0.0.2", forged)).status);
  }
  expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
  expect(statuses.slice(10)).toEqual([429, 429]);
  const limited = await wrongKeyFrom("127.0.0.2", { "x-forwarded-for": "10.5.1.1" });
  expect(limited.status).toBe(429);
  expect(limited.retryAfter).toMatch(/^\d+$/);
  expect(JSON.parse(limited.body).error.code).toBe("rate_limited");
  // another address is not held back
  expect((await wrongKeyFrom("127.0.0.1", {})).status).toBe(401);
});
