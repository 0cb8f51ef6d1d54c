// A slow upload over real HTTP: the server answers 408 with the standard error body while the client
// is still trickling (the e2e server judges the rate over 3 s windows), and keeps nothing of it.
import http from "node:http";
import { expect, test } from "@playwright/test";
import { unique } from "../fixtures";

test("a trickling upload is answered 408 and leaves no dataset", async ({ request, baseURL }) => {
  const name = unique("trickle");
  const url = new URL(`/api/datasets?name=${name}&format=jsonl`, baseURL);
  const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(url, { method: "POST", headers: { "content-type": "application/x-ndjson", "transfer-encoding": "chunked" } });
    let line = 0;
    const timer = setInterval(() => req.write(`{"id":"r${line++}"}\n`), 1_000);
    req.on("response", (res) => {
      clearInterval(timer);
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body });
        req.destroy();
      });
    });
    req.on("error", (err) => {
      clearInterval(timer);
      reject(err);
    });
    setTimeout(() => {
      clearInterval(timer);
      reject(new Error("no answer in 30 s"));
    }, 30_000);
  });
  expect(answer.status).toBe(408);
  expect(JSON.parse(answer.body).error.code).toBe("request_timeout");
  const list = await request.get("/api/datasets?limit=1000");
  expect(((await list.json()) as { items: { name: string }[] }).items.map((d) => d.name)).not.toContain(name);
});
