import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, errorFromBody, send } from "./http";

describe("errorFromBody", () => {
  it("takes the API's error body: code, message and details", () => {
    const e = errorFromBody(422, "Unprocessable Entity", JSON.stringify({ error: { code: "validation_failed", message: "bad", details: [{ path: "concurrency", message: "too big" }] } }));
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ status: 422, code: "validation_failed", message: "bad", details: [{ path: "concurrency", message: "too big" }] });
  });

  it("a body that is not the API's names the status and keeps the start of the text", () => {
    expect(errorFromBody(502, "Bad Gateway", "<html>upstream down</html>")).toMatchObject({ code: "http_502", message: "<html>upstream down</html>", details: [] });
    expect(errorFromBody(503, "Service Unavailable", "")).toMatchObject({ code: "http_503", message: "503 Service Unavailable" });
    expect(errorFromBody(500, "", JSON.stringify({ error: "boom" }))).toMatchObject({ code: "http_500" });
    expect(errorFromBody(500, "", "x".repeat(1000)).message).toHaveLength(300);
  });
});

describe("send", () => {
  let url = "";
  const server = createServer((req, res) => {
    if (req.url === "/ok") return void res.end('{"ok":true}');
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { code: "not_found", message: "batch not found", details: [] } }));
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("answers the response when it is 2xx, the API's error otherwise", async () => {
    expect(await (await send(`${url}/ok`, {}, () => "")).json()).toEqual({ ok: true });
    await expect(send(`${url}/nope`, {}, () => "")).rejects.toMatchObject({ status: 404, code: "not_found", message: "batch not found" });
  });

  it("an unreachable server is status 0 with the caller's message about the cause", async () => {
    // a port nothing listens on: one just freed
    const spare = createServer();
    await new Promise<void>((r) => spare.listen(0, "127.0.0.1", r));
    const port = (spare.address() as AddressInfo).port;
    await new Promise<void>((r) => spare.close(() => r()));
    const err = (await send(`http://127.0.0.1:${port}/`, {}, (cause) => `cannot reach it (${cause})`).catch((e: unknown) => e)) as ApiError;
    expect(err).toMatchObject({ status: 0, code: "unreachable", message: "cannot reach it (ECONNREFUSED)" });
    expect(err.unreachable).toBe(true);
  });
});
