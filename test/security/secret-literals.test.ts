// Batch parameters and options are shown to every key that can read the batch: a credential
// written there as literal text is a credential handed out. Secret-looking literal headers are
// refused (use {"env": ...}), and a webhook URL's query values and user-info are masked wherever a
// batch is shown, while the stored URL is what delivery uses.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { deliverWebhooks } from "@/lib/engine/maintenance";
import { waitFor } from "@/test/support/wait";
import { useTestDatabase } from "../helpers/db";
import { api, createBatch } from "./api";

process.env.BATCHBOARD_AUTH = "off";
useTestDatabase();

const TOKEN = "whsec-Zq81xTTw0pLk2"; // what must never be shown
const PASSWORD = "pw-Hk29sLqz";

describe("secret-looking literal headers in http parameters", () => {
  const httpBatch = (headers: Record<string, unknown>) =>
    createBatch({ flow: "http", parameters: { url: "https://api.example.com/score", headers }, records: [{ id: "a" }] });

  it("are a 422 naming the header and saying to use an env reference", async () => {
    for (const name of ["Authorization", "proxy-authorization", "X-API-Key", "api-key", "X-Auth-Token", "Cookie", "X-Client-Secret", "X-Access-Token", "X-Password", "Ocp-Apim-Subscription-Key"]) {
      const res = await httpBatch({ [name]: "Bearer sk-live-1234567890", "X-Static": "yes" });
      expect(res.status, name).toBe(422);
      expect(res.json.error.code).toBe("validation_failed");
      const detail = res.json.error.details.find((d: { path: string }) => d.path === `parameters.headers.${name}`);
      expect(detail?.message, name).toMatch(/\{"env"/);
      expect(res.text, "the refused value is not echoed").not.toContain("sk-live-1234567890");
    }
    const { rows } = await getPool().query(`SELECT count(*)::int AS n FROM batches`);
    expect(rows[0].n).toBe(0);
  });

  it("leave ordinary literal headers alone", async () => {
    const res = await httpBatch({ "X-Request-Source": "batchboard", Accept: "application/json", "Idempotency-Key": "run-1", "User-Agent": "me" });
    expect(res.status).toBe(201);
  });

  it("says so in the flow's JSON Schema", async () => {
    const flows = await api("GET", "/api/flows");
    const http = flows.json.items.find((f: { name: string }) => f.name === "http");
    expect(JSON.stringify(http)).toMatch(/literal.*refused|refused.*literal/i);
  });
});

describe("webhook URLs", () => {
  let server: ReturnType<typeof createServer>;
  let port: number;
  const received: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      received.push(req.url ?? "");
      req.resume();
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
    process.env.BATCHBOARD_HTTP_ALLOWLIST = `127.0.0.1:${port}`;
  });
  afterAll(async () => {
    delete process.env.BATCHBOARD_HTTP_ALLOWLIST;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it("are shown with query values and user-info masked everywhere a batch appears, and delivered intact", async () => {
    const url = `http://127.0.0.1:${port}/hooks/in?token=${TOKEN}&team=ops#frag-${TOKEN}`;
    const created = await createBatch({ flow: "echo", records: [{ id: "a" }], webhook_url: url, shuffle: false });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    // user-info cannot be given today (refused at creation), but a row stored earlier may hold it
    await getPool().query(`UPDATE batches SET webhook_url = $2 WHERE id = $1`, [id, url.replace("http://", `http://hook:${PASSWORD}@`)]);

    const masked = `http://***:***@127.0.0.1:${port}/hooks/in?token=***&team=***#***`;
    expect(created.json.options.webhook_url).toBe(`http://127.0.0.1:${port}/hooks/in?token=***&team=***#***`);
    const shown = [
      created.text,
      (await api("GET", "/api/batches/[id]", { params: { id } })).text,
      (await api("GET", "/api/batches", { query: "limit=10" })).text,
      (await api("POST", "/api/batches/[id]/pause", { params: { id } })).text,
      (await api("POST", "/api/batches/[id]/resume", { params: { id } })).text,
      (await api("POST", "/api/batches/[id]/cancel", { params: { id } })).text,
      await firstSseEvent("/api/batches/[id]/events", { id }),
      (await api("GET", "/api/batches/[id]/results", { params: { id }, query: "format=jsonl" })).text,
      (await api("GET", "/api/batches/[id]/results", { params: { id }, query: "format=csv" })).text,
    ];
    for (const text of shown) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(PASSWORD);
    }
    expect((await api("GET", "/api/batches/[id]", { params: { id } })).json.options.webhook_url).toBe(masked);

    // the OpenAPI document describes the masking with an example
    const doc = await api("GET", "/api/openapi.json");
    const option = doc.json.components.schemas.Batch.properties.options.properties.webhook_url;
    expect(JSON.stringify(option)).toContain("token=***");

    // delivery uses the stored URL, secrets included
    await getPool().query(`UPDATE batches SET webhook_url = $2 WHERE id = $1`, [id, url]);
    await waitFor("the webhook to be delivered", async () => {
      await deliverWebhooks();
      const { rows } = await getPool().query(`SELECT webhook_state FROM batches WHERE id = $1`, [id]);
      return rows[0].webhook_state === "delivered";
    });
    expect(received).toEqual([`/hooks/in?token=${TOKEN}&team=ops`]);
  });
});

/** The first `batch` event of an SSE route, as text. */
async function firstSseEvent(pattern: string, params: Record<string, string>): Promise<string> {
  const { callRoute, loadApiRoutes } = await import("../helpers/routes");
  const route = (await loadApiRoutes()).find((r) => r.pattern === pattern)!;
  const controller = new AbortController();
  const res = await callRoute(route, "GET", { params, signal: controller.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!/event: batch\ndata: .*\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  controller.abort();
  await reader.cancel().catch(() => {});
  return text;
}
