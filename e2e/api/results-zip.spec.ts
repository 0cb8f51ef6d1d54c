// The zip export over HTTP: an llm batch with save_raw against a local stand-in for the provider,
// downloaded and unzipped: processed/ with each parsed result, raw/ with each response as it came,
// summary.json with the counts; ids that look like paths stay file names.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { unzip } from "../../test/helpers/zip";
import { createBatch, unique, waitForBatch } from "../fixtures";

test("an llm batch with save_raw downloads as processed/, raw/ and summary.json", async ({ request }) => {
  let calls = 0;
  const provider = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const text = JSON.parse(body).messages.at(-1).content as string;
      calls++;
      res.writeHead(200, { "content-type": "application/json", "x-request-id": `req-${calls}` });
      res.end(
        JSON.stringify({
          id: `chatcmpl-${calls}`,
          model: "mock",
          choices: [{ message: { role: "assistant", content: JSON.stringify({ label: text.length % 2 ? "odd" : "even" }) }, finish_reason: "stop" }],
          usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
        }),
      );
    });
  });
  await new Promise<void>((r) => provider.listen(0, "127.0.0.1", r));
  const { port } = provider.address() as AddressInfo;
  try {
    const records = [
      { id: "inv-1", text: "a" },
      { id: "inv/2", text: "bb" },
      { id: "../3", text: "ccc" },
    ];
    const created = await createBatch(request, {
      flow: "llm",
      name: unique("zip"),
      records,
      save_raw: true,
      parameters: {
        base_url: `http://127.0.0.1:${port}/v1`,
        model: "mock",
        user_prompt: "{{record.text}}",
        response_format: { type: "json_object" },
      },
    });
    const done = await waitForBatch(request, created.id);
    expect(done.progress.succeeded).toBe(3);

    const res = await request.get(`/api/batches/${created.id}/results?format=zip`);
    expect(res.status()).toBe(200);
    expect(res.headers()["content-type"]).toBe("application/zip");
    const files = await unzip(await res.body());
    const names = [...files.keys()].sort();
    expect(names).toEqual([
      "processed/%2E%2E%2F3.json",
      "processed/inv%2F2.json",
      "processed/inv-1.json",
      "raw/%2E%2E%2F3.json",
      "raw/inv%2F2.json",
      "raw/inv-1.json",
      "summary.json",
    ]);
    const read = (name: string) => JSON.parse(files.get(name)!.toString("utf8"));
    expect(read("processed/inv%2F2.json")).toMatchObject({ record_id: "inv/2", status: "succeeded", result: { parsed: { label: "even" } }, error: null });
    expect(read("processed/inv-1.json").result).not.toHaveProperty("response");
    const raw = read("raw/%2E%2E%2F3.json");
    expect(raw).toMatchObject({ status_code: 200, body: { model: "mock", choices: [{ message: { content: '{"label":"odd"}' } }] } });
    expect(raw.request_id).toMatch(/^req-\d$/);
    expect(read("summary.json")).toMatchObject({ batch_id: created.id, counts: { total: 3, succeeded: 3 } });
  } finally {
    provider.close();
  }
});
