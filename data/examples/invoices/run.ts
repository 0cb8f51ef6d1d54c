// The invoice example: generates fake invoices as PDFs, uploads them to Batchboard as one dataset of
// files, runs the `llm` flow with files: true, an invoice JSON schema and a cost limit, and prints
// the batch's progress and what was extracted. README.md beside this file says how to run it.
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { fakeInvoice, invoicePdf } from "./generate";

/** What the model is asked to return for each invoice (strict JSON schema: every field required). */
export const INVOICE_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["vendor", "invoice_number", "date", "total", "currency", "line_items"],
  properties: {
    vendor: { type: "string", description: "the company that issued the invoice" },
    invoice_number: { type: "string" },
    date: { type: "string", description: "the invoice date as YYYY-MM-DD" },
    total: { type: "number" },
    currency: { type: "string", description: "ISO 4217 code, e.g. EUR" },
    line_items: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["description", "quantity", "unit_price", "amount"],
        properties: {
          description: { type: "string" },
          quantity: { type: "number" },
          unit_price: { type: "number" },
          amount: { type: "number" },
        },
      },
    },
  },
};

export interface ExampleOptions {
  /** Batchboard's address */
  baseUrl: string;
  count: number;
  /** the model's OpenAI-compatible API root */
  llmBaseUrl: string;
  model: string;
  /** environment variable (on the Batchboard server) holding the model's API key */
  apiKeyEnv?: string;
  /** stop the batch once it has spent this many dollars */
  maxCost: number;
  /** prices per million tokens, for the cost */
  inputPer1m: number;
  outputPer1m: number;
  /** a Batchboard API key when authentication is on */
  token?: string;
  /** how often to poll the batch, in milliseconds */
  pollMs?: number;
}

export interface ExampleResult {
  datasetId: string;
  batchId: string;
  batch: { status: string; progress: { succeeded: number; failed: number; total: number }; cost: { spent: number; max: number | null } };
  results: { record_id: string; status: string; result?: { parsed?: unknown; citations?: unknown[] }; error?: { code: string; message: string } | null }[];
}

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

async function api<T>(fetchImpl: Fetch, o: ExampleOptions, path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  if (o.token) headers.set("authorization", `Bearer ${o.token}`);
  const res = await fetchImpl(`${o.baseUrl.replace(/\/+$/, "")}${path}`, { ...init, headers });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path} answered ${res.status}: ${text}`);
  return (path.includes("/results") ? text : JSON.parse(text)) as T;
}

/** Generates, uploads, runs and waits; `log` gets the progress lines. */
export async function runInvoiceExample(o: ExampleOptions, fetchImpl: Fetch = fetch, log: (line: string) => void = console.log): Promise<ExampleResult> {
  const form = new FormData();
  form.append("name", `invoices-${new Date().toISOString().replace(/[-:.TZ]/g, "").slice(0, 14)}-${o.count}`);
  let bytes = 0;
  for (let n = 1; n <= o.count; n++) {
    const pdf = await invoicePdf(fakeInvoice(n));
    bytes += pdf.length;
    form.append("files", new Blob([new Uint8Array(pdf)], { type: "application/pdf" }), `invoices/invoice-${String(n).padStart(3, "0")}.pdf`);
  }
  log(`Generated ${o.count} invoices (${(bytes / 1024).toFixed(0)} KiB); uploading…`);
  const dataset = await api<{ id: string; record_count: number }>(fetchImpl, o, "/api/datasets", { method: "POST", body: form });
  log(`Dataset ${dataset.id}: ${dataset.record_count} files`);

  const created = await api<{ id: string }>(fetchImpl, o, "/api/batches", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      name: "invoice extraction",
      flow: "llm",
      dataset: dataset.id,
      max_cost: o.maxCost,
      max_retries: 2,
      parameters: {
        base_url: o.llmBaseUrl,
        model: o.model,
        ...(o.apiKeyEnv ? { api_key_env: o.apiKeyEnv } : {}),
        files: true,
        system_prompt: "You extract data from invoices. Answer only from the document.",
        user_prompt: "Extract this invoice ({{record.filename}}).",
        response_format: { type: "json_schema", name: "invoice", schema: INVOICE_SCHEMA },
        prices: { input_per_1m: o.inputPer1m, output_per_1m: o.outputPer1m },
      },
    }),
  });
  log(`Batch ${created.id} created`);

  let batch: ExampleResult["batch"];
  let last = "";
  for (;;) {
    batch = await api<ExampleResult["batch"]>(fetchImpl, o, `/api/batches/${created.id}`);
    const p = batch.progress;
    const line = `Processing: ${p.succeeded + p.failed}/${p.total} | failed ${p.failed} | Cost: $${batch.cost.spent.toFixed(2)} / $${(batch.cost.max ?? 0).toFixed(2)}`;
    if (line !== last) log(line);
    last = line;
    if (!["pending", "running", "paused"].includes(batch.status)) break;
    await new Promise((r) => setTimeout(r, o.pollMs ?? 1000));
  }
  const text = await api<string>(fetchImpl, o, `/api/batches/${created.id}/results?format=jsonl`);
  const results = text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as ExampleResult["results"][number]);
  log(`Batch ${batch.status}: ${batch.progress.succeeded} succeeded, ${batch.progress.failed} failed, $${batch.cost.spent.toFixed(4)} spent`);
  for (const r of results.slice(0, 3)) log(`${r.record_id}: ${JSON.stringify(r.result?.parsed ?? r.error)}`);
  if (results.length > 3) log(`… ${results.length - 3} more: ${o.baseUrl.replace(/\/+$/, "")}/api/batches/${created.id}/results`);
  return { datasetId: dataset.id, batchId: created.id, batch, results };
}

const USAGE = `npx tsx data/examples/invoices/run.ts [options]
  --base-url <url>      Batchboard (default http://localhost:3000)
  --count <n>           invoices to generate (default 100)
  --llm-base-url <url>  OpenAI-compatible API root (default https://api.openai.com/v1)
  --model <name>        a model that reads PDFs (default gpt-4o-mini)
  --api-key-env <NAME>  server environment variable holding the model's key (default OPENAI_API_KEY; "" for none)
  --max-cost <usd>      stop spending past this (default 1)
  --input-price <usd>   per million input tokens (default 0.15)
  --output-price <usd>  per million output tokens (default 0.6)
  --token <key>         Batchboard API key when authentication is on (env BATCHBOARD_TOKEN)`;

async function main() {
  const { values } = parseArgs({
    options: {
      "base-url": { type: "string", default: "http://localhost:3000" },
      count: { type: "string", default: "100" },
      "llm-base-url": { type: "string", default: "https://api.openai.com/v1" },
      model: { type: "string", default: "gpt-4o-mini" },
      "api-key-env": { type: "string", default: "OPENAI_API_KEY" },
      "max-cost": { type: "string", default: "1" },
      "input-price": { type: "string", default: "0.15" },
      "output-price": { type: "string", default: "0.6" },
      token: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return console.log(USAGE);
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--count must be a positive whole number\n${USAGE}`);
  await runInvoiceExample({
    baseUrl: values["base-url"],
    count,
    llmBaseUrl: values["llm-base-url"],
    model: values.model,
    apiKeyEnv: values["api-key-env"] || undefined,
    maxCost: Number(values["max-cost"]),
    inputPer1m: Number(values["input-price"]),
    outputPer1m: Number(values["output-price"]),
    token: values.token ?? process.env.BATCHBOARD_TOKEN,
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
