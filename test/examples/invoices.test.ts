// The invoice example (data/examples/invoices/run.ts) run whole: 100 generated PDFs uploaded as a
// dataset of files, an llm batch with files: true against a mock provider on 127.0.0.1, and every
// result schema-valid and linked to its own file (the bytes the provider got are that record's).
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { runInvoiceExample } from "@/data/examples/invoices/run";
import { useTestDatabase } from "../helpers/db";
import { callRoute, loadApiRoutes, type ApiRoute, type Method } from "../helpers/routes";
import { startOpenAIMock, type OpenAIMock } from "../support/openai-mock";

process.env.BATCHBOARD_AUTH = "off";
process.env.BATCHBOARD_HTTP_ALLOWLIST = "127.0.0.1";
useTestDatabase();

/** fetch() answered by the app's route handlers in-process (no build, no port). */
async function inProcessFetch(): Promise<(input: string, init?: RequestInit) => Promise<Response>> {
  const routes = await loadApiRoutes();
  const matchers = routes
    .map((r: ApiRoute) => ({ route: r, re: new RegExp(`^${r.pattern.replace(/\[[^\]]+\]/g, "([^/]+)")}$`), dynamic: r.params.length }))
    .sort((a, b) => a.dynamic - b.dynamic);
  return async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const hit = matchers.map((m) => ({ ...m, match: m.re.exec(url.pathname) })).find((m) => m.match);
    if (!hit) return new Response("no route", { status: 404 });
    const params = Object.fromEntries(hit.route.params.map((p, i) => [p, decodeURIComponent(hit.match![i + 1]!)]));
    return callRoute(hit.route, req.method as Method, {
      params,
      query: url.search.slice(1),
      headers: Object.fromEntries(req.headers),
      body: req.method === "GET" ? undefined : await req.arrayBuffer(),
    });
  };
}

const Invoice = z
  .object({
    vendor: z.string(),
    invoice_number: z.string(),
    date: z.string(),
    total: z.number(),
    currency: z.string(),
    line_items: z.array(z.object({ description: z.string(), quantity: z.number(), unit_price: z.number(), amount: z.number() }).strict()),
  })
  .strict();

let mock: OpenAIMock;
let worker: WorkerHandle;
beforeAll(async () => {
  mock = await startOpenAIMock();
  worker = await startWorker({ mode: "in-process", concurrency: 16, pollMs: 50, maintenanceMs: 200 });
});
afterAll(async () => {
  await worker?.stop(1000);
  await mock?.close();
});

describe("the invoice example", () => {
  it("extracts 100 generated invoices, each result from its own PDF, within its max_cost", async () => {
    const lines: string[] = [];
    const out = await runInvoiceExample(
      { baseUrl: "http://batchboard.test", count: 100, llmBaseUrl: `${mock.url}/v1`, model: "invoice-reader", maxCost: 5, inputPer1m: 0.15, outputPer1m: 0.6, pollMs: 100 },
      await inProcessFetch(),
      (l) => lines.push(l),
    );
    expect(out.batch.status).toBe("completed");
    expect(out.batch.progress).toMatchObject({ total: 100, succeeded: 100, failed: 0 });
    expect(out.batch.cost).toMatchObject({ max: 5 });
    expect(out.batch.cost.spent).toBeCloseTo(100 * (10 * 0.15 + 5 * 0.6) / 1e6, 10);
    expect(out.results.map((r) => r.record_id).sort()).toEqual(Array.from({ length: 100 }, (_, i) => `invoices/invoice-${String(i + 1).padStart(3, "0")}.pdf`));

    // the bytes each request carried are the stored file of the record whose answer it became
    const fetchImpl = await inProcessFetch();
    const records = await (await fetchImpl(`http://batchboard.test/api/datasets/${out.datasetId}/records?limit=1000`)).json();
    const shaByName = new Map<string, string>(records.items.map((r: { data: { filename: string; sha256: string } }) => [r.data.filename, r.data.sha256]));
    const calls = mock.requests.filter((r) => r.path === "/v1/chat/completions");
    expect(calls).toHaveLength(100);
    for (const call of calls) {
      const parts = (call.body.messages as { content: unknown }[]).at(-1)!.content as { type: string; file?: { filename: string; file_data: string } }[];
      const file = parts.find((p) => p.type === "file")!.file!;
      expect(file.file_data.startsWith("data:application/pdf;base64,JVBERi0")).toBe(true); // %PDF-
      const sha = createHash("sha256").update(Buffer.from(file.file_data.split(",")[1]!, "base64")).digest("hex");
      expect(sha).toBe(shaByName.get(file.filename));
      expect(call.body.response_format).toMatchObject({ type: "json_schema", json_schema: { name: "invoice", strict: true } });
    }
    for (const r of out.results) {
      expect(r.status).toBe("succeeded");
      const invoice = Invoice.parse(r.result?.parsed);
      expect(invoice.invoice_number).toBe(`invoice_number of ${r.record_id.split("/").pop()}`);
    }
    expect(lines.at(-5)).toMatch(/^Batch completed: 100 succeeded, 0 failed/);
    expect(lines.some((l) => /^Processing: 100\/100 \| failed 0 \| Cost: \$0\.00 \/ \$5\.00$/.test(l))).toBe(true);
  });
});
