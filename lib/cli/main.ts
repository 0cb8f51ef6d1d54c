// `npx batchboard <command>`: the REST API from a terminal. Human-readable tables by default, --json
// for scripts. Exit codes: 0 ok, 1 API error or a batch that ended failed/cancelled (or with every
// record failed), 2 usage error,
// 3 a batch that completed with failed records (`wait` and `create --wait`).
import { createReadStream, createWriteStream, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ApiError, connect } from "./client";
import type { Api, JobListInput } from "../client/api";
import type { CreateBatchBody, ListResponse } from "../client/types";
import { formatShare, headline, outcomeDetail, outcomeLabel } from "../client/outcome";
import { rateLimitNowText, rateLimitText } from "../client/format";
import { duration, progressLine, summaryText, table } from "./format";
import type { Batch } from "../contract/batches";
import { isTerminalBatch } from "../contract/statuses";

type Options = NonNullable<ParseArgsConfig["options"]>;
type Values = Record<string, string | boolean | string[] | undefined>;

class UsageError extends Error {}

const GLOBAL: Options = {
  url: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

const PAGE: Options = { limit: { type: "string" }, cursor: { type: "string" } };

const HELP = `batchboard – run and watch Batchboard batches from a terminal

Usage: batchboard <command> [options]

Commands:
  create <flow>              create a batch (see options below); --wait to follow it to the end
  wait <batch>               follow an existing batch to its end with a live progress bar; exit code by outcome
  clone <batch>              run a batch again: --set key=value (repeatable, e.g. parameters.model=gpt-4o or
                             concurrency=4), --records all|failed|cancelled|<id>,<id>…, --wait
  list                       list batches (--status, --flow, --q, --parent <batch>, --limit, --cursor)
  status <batch>             one batch: progress, cost, timing
  summary <batch>            counts, retries, cost, durations; --group-by result.<field> (a distribution),
                             --stats result.<field> (numbers: mean, min, max, p50, p95), each repeatable; --top <n>
  cancel <batch>             cancel a batch
  pause <batch>              pause a batch
  resume <batch>             resume a paused batch
  retry <batch>              re-run failed jobs (--statuses failed,cancelled,skipped)
  jobs <batch>               list a batch's jobs (--status, --q, --sort ordinal|finished, --limit, --cursor)
  results <batch>            stream results (--format jsonl|csv|openai|zip, --status, --output <file>; default stdout)
  datasets upload <file>     upload a CSV / JSONL / JSON file (--name, --format, --id-field, --description)
  datasets list              list datasets
  prompts list               list prompts (--status open, --batch <id>)
  prompts answer <id> <answer>   answer a prompt (JSON, else taken as a string)
  flows                      list flows

create options:
  --dataset <id|name>  --records-file <file.json|.jsonl|.txt>  --record-id-field <field>
  --param key=value (repeatable; value parsed as JSON when it is)  --params-json '{...}'
  --name <name>  --no-shuffle  --seed <s>  --max-records <n>  --concurrency <n>  --error-policy continue|stop
  --chunk-size <n>     records per call, for flows that chunk (embed: inputs per request, at most 2048; http with
                       --param chunked=...; llm and embed with --mode provider_batch: records per provider batch,
                       default 1000, 2 to 50000)
  --mode live|provider_batch   llm, embed: send records to the provider's batch tier at its discount (parameters.mode)
  --error-threshold <rate>[:<min_finished>]  --interactive  --max-retries <n>  --max-interruptions <n>
  --retry-backoff-ms <n>  --timeout-ms <n>  --max-cost <n>  --priority <n>  --metadata-json '{...}'  --webhook-url <url>
  --cost-reservation mean|<cost per record>  (with --max-cost: count each job's cost before it starts, so the
                       budget ends within one job's cost of max_cost)
  --dry-run  --save-raw (the zip export keeps raw provider responses)  --idempotency-key <key>
  --cache | --no-cache  reuse earlier results of the same flow, parameters and record (default: the flow's)
  --cache-max-age <s>   reuse only results at most this old  --cache-answers  also results a person answered
  --rate-limit rpm=<n>,tpm=<n>,key=<key>   any of the three (e.g. rpm=600,key=openai:gpt-4o-mini): requests and
                       tokens per minute, shared by every batch naming the key (docs/rate-limits.md)
  --wait               show a live progress bar (stderr) until the batch ends; exit code by outcome, as wait

Exit codes: 0 done (a waited-for batch completed with no failed record), 1 API error or a waited-for batch
that ended failed or cancelled or with every record failed, 2 usage error, 3 a waited-for batch completed but some records failed.

Global options:
  --url <url>     API base URL (env BATCHBOARD_URL, default http://localhost:3000)
  --token <key>   API key, sent as a Bearer token (env BATCHBOARD_TOKEN)
  --json          machine-readable JSON output
  -h, --help      this help
`;

const CREATE: Options = {
  dataset: { type: "string" },
  "records-file": { type: "string" },
  "record-id-field": { type: "string" },
  param: { type: "string", multiple: true },
  "params-json": { type: "string" },
  name: { type: "string" },
  flow: { type: "string" },
  "no-shuffle": { type: "boolean" },
  shuffle: { type: "boolean" },
  seed: { type: "string" },
  "max-records": { type: "string" },
  concurrency: { type: "string" },
  "chunk-size": { type: "string" },
  mode: { type: "string" },
  "error-policy": { type: "string" },
  "error-threshold": { type: "string" },
  interactive: { type: "boolean" },
  "max-retries": { type: "string" },
  "max-interruptions": { type: "string" },
  "retry-backoff-ms": { type: "string" },
  "timeout-ms": { type: "string" },
  "max-cost": { type: "string" },
  "cost-reservation": { type: "string" },
  priority: { type: "string" },
  "metadata-json": { type: "string" },
  "webhook-url": { type: "string" },
  "dry-run": { type: "boolean" },
  "save-raw": { type: "boolean" },
  cache: { type: "boolean" },
  "no-cache": { type: "boolean" },
  "cache-max-age": { type: "string" },
  "cache-answers": { type: "boolean" },
  "rate-limit": { type: "string" },
  "idempotency-key": { type: "string" },
  wait: { type: "boolean" },
};

const COMMAND_OPTIONS: Record<string, Options> = {
  create: CREATE,
  clone: { set: { type: "string", multiple: true }, records: { type: "string" }, wait: { type: "boolean" } },
  list: { ...PAGE, status: { type: "string" }, flow: { type: "string" }, q: { type: "string" }, parent: { type: "string" } },
  status: {},
  summary: { "group-by": { type: "string", multiple: true }, stats: { type: "string", multiple: true }, top: { type: "string" } },
  wait: {},
  cancel: {},
  pause: {},
  resume: {},
  retry: { statuses: { type: "string" } },
  jobs: { ...PAGE, status: { type: "string" }, q: { type: "string" }, sort: { type: "string" } },
  results: { format: { type: "string" }, status: { type: "string" }, output: { type: "string", short: "o" } },
  "datasets upload": { name: { type: "string" }, format: { type: "string" }, "id-field": { type: "string" }, description: { type: "string" } },
  "datasets list": PAGE,
  "prompts list": { ...PAGE, status: { type: "string" }, batch: { type: "string" } },
  "prompts answer": {},
  flows: {},
};

interface Ctx {
  api: Api;
  values: Values;
  args: string[];
  json: boolean;
  out: (s: string) => void;
  err: (s: string) => void;
}

function num(values: Values, key: string): number | undefined {
  const v = values[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${key} must be a number (got ${String(v)})`);
  return n;
}

function str(values: Values, key: string): string | undefined {
  const v = values[key];
  return typeof v === "string" ? v : undefined;
}

function arg(ctx: Ctx, i: number, what: string): string {
  const v = ctx.args[i];
  if (!v) throw new UsageError(`missing <${what}>`);
  return v;
}

function parseJsonFlag(value: string | undefined, flag: string): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw new UsageError(`--${flag} must be JSON`);
  }
}

function readRecordsFile(file: string): unknown[] {
  const text = readFileSync(file, "utf8");
  const ext = path.extname(file).toLowerCase();
  if (ext === ".json") {
    const v = JSON.parse(text) as unknown;
    if (!Array.isArray(v)) throw new UsageError(`${file}: a .json records file must hold an array`);
    return v;
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (ext === ".jsonl" || ext === ".ndjson") return lines.map((l, i) => {
    try {
      return JSON.parse(l) as unknown;
    } catch {
      throw new UsageError(`${file}:${i + 1}: not JSON`);
    }
  });
  return lines; // plain text: one record (a string) per line
}

/** A value typed on the command line: JSON when it parses as JSON, else the text itself. */
function cliValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** `clone`'s body: each --set key.path=value laid into an object, and the --records selection. */
export function cloneBody(v: Values): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const s of (v.set as string[] | undefined) ?? []) {
    const eq = s.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set must be key=value (got ${s})`);
    const keys = s.slice(0, eq).split(".");
    if (keys.some((k) => !k)) throw new UsageError(`--set: empty key in ${s.slice(0, eq)}`);
    let at = body;
    for (const k of keys.slice(0, -1)) {
      if (typeof at[k] !== "object" || at[k] === null) at[k] = {};
      at = at[k] as Record<string, unknown>;
    }
    at[keys[keys.length - 1]!] = cliValue(s.slice(eq + 1));
  }
  const records = str(v, "records");
  if (records !== undefined) {
    body.records = ["all", "failed", "cancelled"].includes(records) ? records : records.split(",").map((r) => r.trim()).filter(Boolean);
  }
  return body;
}

/** --cost-reservation: `mean` (the batch's running mean per record) or a fixed estimate per record. */
function costReservation(value: string | undefined): "mean" | { per_record: number } | undefined {
  if (value === undefined || value === "mean") return value;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new UsageError(`--cost-reservation must be mean or a cost per record (got ${value})`);
  return { per_record: n };
}

const RATE_LIMIT_FIELDS: Record<string, string> = {
  rpm: "requests_per_minute",
  requests_per_minute: "requests_per_minute",
  tpm: "tokens_per_minute",
  tokens_per_minute: "tokens_per_minute",
  key: "key",
};

/** `rpm=600,tpm=200000,key=openai:gpt-4o-mini` -> the API's rate_limit (the server checks the values). */
export function parseRateLimitFlag(flag: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const part of flag.split(",").map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf("=");
    const field = eq > 0 ? RATE_LIMIT_FIELDS[part.slice(0, eq).trim()] : undefined;
    if (!field) throw new UsageError(`--rate-limit takes rpm=<n>,tpm=<n>,key=<key> (got ${part})`);
    const value = part.slice(eq + 1).trim();
    out[field] = field === "key" ? value : /^\d+$/.test(value) ? Number(value) : value;
  }
  if (Object.keys(out).length === 0) throw new UsageError("--rate-limit takes rpm=<n>,tpm=<n>,key=<key>");
  return out;
}

export function createBody(flow: string, v: Values): Record<string, unknown> {
  const parameters: Record<string, unknown> = { ...((parseJsonFlag(str(v, "params-json"), "params-json") as object) ?? {}) };
  for (const p of (v.param as string[] | undefined) ?? []) {
    const eq = p.indexOf("=");
    if (eq <= 0) throw new UsageError(`--param must be key=value (got ${p})`);
    const raw = p.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // not JSON: the string itself
    }
    parameters[p.slice(0, eq)] = value;
  }
  const mode = str(v, "mode");
  if (mode !== undefined) {
    if (mode !== "live" && mode !== "provider_batch") throw new UsageError(`--mode is live or provider_batch (got ${mode})`);
    parameters.mode = mode;
  }
  // "0.5" is the rate alone (the server's default min_finished); "0.5:20" sets both
  let errorThreshold: number | { rate: number; min_finished: number } | undefined;
  const et = str(v, "error-threshold");
  if (et !== undefined) {
    const [rate, min] = et.split(":");
    errorThreshold = min === undefined ? Number(rate) : { rate: Number(rate), min_finished: Number(min) };
  }
  const body: Record<string, unknown> = {
    flow,
    name: str(v, "name"),
    parameters,
    dataset: str(v, "dataset"),
    records: v["records-file"] ? readRecordsFile(str(v, "records-file")!) : undefined,
    record_id_field: str(v, "record-id-field"),
    shuffle: v["no-shuffle"] ? false : v.shuffle === true ? true : undefined,
    seed: str(v, "seed"),
    max_records: num(v, "max-records"),
    concurrency: num(v, "concurrency"),
    chunk_size: num(v, "chunk-size"),
    error_policy: str(v, "error-policy"),
    error_threshold: errorThreshold,
    interactive: v.interactive === true ? true : undefined,
    max_retries: num(v, "max-retries"),
    max_interruptions: num(v, "max-interruptions"),
    retry_backoff_ms: num(v, "retry-backoff-ms"),
    timeout_ms: num(v, "timeout-ms"),
    max_cost: num(v, "max-cost"),
    cost_reservation: costReservation(str(v, "cost-reservation")),
    priority: num(v, "priority"),
    metadata: parseJsonFlag(str(v, "metadata-json"), "metadata-json"),
    webhook_url: str(v, "webhook-url"),
    dry_run: v["dry-run"] === true ? true : undefined,
    save_raw: v["save-raw"] === true ? true : undefined,
    cache: v["no-cache"] ? false : v.cache === true ? true : undefined,
    cache_max_age: num(v, "cache-max-age"),
    cache_answers: v["cache-answers"] === true ? true : undefined,
    rate_limit: v["rate-limit"] === undefined ? undefined : parseRateLimitFlag(str(v, "rate-limit")!),
  };
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  return body;
}

/** A batch as the API sends it: the wire schema's type (type-only: nothing of the server is loaded). */
type BatchJson = Batch;

/** How a waited-for batch ended, as an exit code: 0 completed with no failed record, 3 completed with some, 1 failed or cancelled. */
export function outcomeExitCode(b: Pick<BatchJson, "status" | "progress" | "outcome">): number {
  // a batch that completed with every record failed did not do its job either
  if (b.status !== "completed" || b.outcome?.kind === "all_failed") return 1;
  return b.progress.failed > 0 ? 3 : 0;
}

function printBatch(ctx: Ctx, b: BatchJson) {
  if (ctx.json) return ctx.out(JSON.stringify(b, null, 2));
  const p = b.progress;
  const detail = outcomeDetail(b);
  ctx.out(
    [
      `id         ${b.id}${b.name ? `  (${b.name})` : ""}`,
      `flow       ${b.flow}`,
      `status     ${outcomeLabel(b)}`,
      ...(detail ? [`           ${detail}`] : []),
      `progress   ${headline(b).text}: succeeded ${p.succeeded}, failed ${p.failed}, running ${p.running}, cancelled ${p.cancelled}, skipped ${p.skipped}`,
      `cost       ${b.cost.spent}${b.cost.max !== null ? ` of max ${b.cost.max}` : ""}${b.cost.projected_total !== null ? `, projected ${b.cost.projected_total}` : ""}`,
      ...(b.rate_limit ? [`rate limit ${rateLimitText(b.rate_limit)}${rateLimitNowText(b.rate_limit) ? `; ${rateLimitNowText(b.rate_limit)}` : ""}`] : []),
      `timing     created ${b.timing.created_at}, duration ${duration(b.timing.duration_seconds)}, ${b.timing.items_per_second ?? "-"} items/s, ETA ${duration(b.timing.eta_seconds)}`,
    ].join("\n"),
  );
}

async function waitFor(ctx: Ctx, id: string): Promise<BatchJson> {
  const tty = process.stderr.isTTY;
  let lastLine = "";
  for (;;) {
    const b = await ctx.api.getBatch(id);
    const line = progressLine(b);
    if (tty) process.stderr.write(`\r${line}\x1b[K`);
    else if (line !== lastLine) ctx.err(line);
    lastLine = line;
    if (isTerminalBatch(b.status)) {
      if (tty) process.stderr.write("\n");
      return b;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function printList<T>(ctx: Ctx, page: ListResponse<T>, columns: string[], map: (r: T) => Record<string, unknown> = (r) => r as Record<string, unknown>) {
  if (ctx.json) return ctx.out(JSON.stringify(page, null, 2));
  ctx.out(table(page.items.map(map), columns));
  ctx.out(`${page.items.length} of ${page.total}${page.next_cursor ? `  (more: --cursor ${page.next_cursor})` : ""}`);
}

const COMMANDS: Record<string, (ctx: Ctx) => Promise<number>> = {
  async create(ctx) {
    const flow = str(ctx.values, "flow") ?? arg(ctx, 0, "flow");
    const key = str(ctx.values, "idempotency-key");
    // the flags' values go as typed: the API validates them and names a bad one
    const batch = await ctx.api.createBatch(createBody(flow, ctx.values) as CreateBatchBody, { idempotencyKey: key });
    for (const w of batch.warnings ?? []) ctx.err(`warning: ${w.message}`);
    if (!ctx.values.wait) {
      printBatch(ctx, batch);
      return 0;
    }
    if (!ctx.json) ctx.err(`created ${batch.id}; waiting for it to finish (Ctrl-C stops watching, not the batch)`);
    const done = await waitFor(ctx, batch.id);
    printBatch(ctx, done);
    return outcomeExitCode(done);
  },
  async clone(ctx) {
    const parent = arg(ctx, 0, "batch");
    const batch = await ctx.api.cloneBatch(parent, cloneBody(ctx.values));
    if (!ctx.values.wait) {
      printBatch(ctx, batch);
      return 0;
    }
    if (!ctx.json) ctx.err(`created ${batch.id} from ${parent}; waiting for it to finish (Ctrl-C stops watching, not the batch)`);
    const done = await waitFor(ctx, batch.id);
    printBatch(ctx, done);
    return outcomeExitCode(done);
  },
  async wait(ctx) {
    const id = arg(ctx, 0, "batch");
    if (!ctx.json) ctx.err(`waiting for ${id} to finish (Ctrl-C stops watching, not the batch)`);
    const done = await waitFor(ctx, id);
    printBatch(ctx, done);
    return outcomeExitCode(done);
  },
  async list(ctx) {
    const v = ctx.values;
    const page = await ctx.api.listBatches(
      { status: str(v, "status"), flow: str(v, "flow"), q: str(v, "q"), parent: str(v, "parent"), limit: str(v, "limit") },
      str(v, "cursor"),
    );
    printList(ctx, page, ["id", "status", "flow", "name", "progress", "created"], (b) => {
      const head = headline(b);
      return { id: b.id, status: outcomeLabel(b), flow: b.flow, name: b.name, progress: `${formatShare(head.percent)} ${head.short}`, created: b.timing.created_at };
    });
    return 0;
  },
  async status(ctx) {
    printBatch(ctx, await ctx.api.getBatch(arg(ctx, 0, "batch")));
    return 0;
  },
  async summary(ctx) {
    const v = ctx.values;
    const list = (key: string) => (v[key] as string[] | undefined) ?? [];
    const s = await ctx.api.getSummary(arg(ctx, 0, "batch"), { group_by: list("group-by"), stats: list("stats"), top: str(v, "top") });
    ctx.out(ctx.json ? JSON.stringify(s, null, 2) : summaryText(s));
    return 0;
  },
  cancel: (ctx) => batchAction(ctx, "cancel"),
  pause: (ctx) => batchAction(ctx, "pause"),
  resume: (ctx) => batchAction(ctx, "resume"),
  async retry(ctx) {
    const statuses = str(ctx.values, "statuses")?.split(",").map((s) => s.trim()).filter(Boolean);
    const out = await ctx.api.retryBatch(arg(ctx, 0, "batch"), statuses);
    if (ctx.json) ctx.out(JSON.stringify(out, null, 2));
    else ctx.out(`re-queued ${out.retried} job(s); ${out.batch.id} is ${out.batch.status}`);
    return 0;
  },
  async jobs(ctx) {
    const v = ctx.values;
    const page = await ctx.api.listJobs(
      arg(ctx, 0, "batch"),
      // --sort goes as typed: the API validates it
      { status: str(v, "status"), q: str(v, "q"), sort: str(v, "sort") as JobListInput["sort"], limit: str(v, "limit") },
      str(v, "cursor"),
    );
    printList(ctx, page, ["record_id", "status", "attempts", "interruptions", "duration_ms", "cost", "error"], (r) => ({
      ...r,
      error: r.error ? `${r.error.code}: ${r.error.message}` : null,
    }));
    return 0;
  },
  async results(ctx) {
    const v = ctx.values;
    const res = await ctx.api.getResults(arg(ctx, 0, "batch"), { format: str(v, "format") ?? "jsonl", status: str(v, "status") });
    const output = str(v, "output");
    const body = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
    if (output) {
      await pipeline(body, createWriteStream(output));
      ctx.err(`wrote ${output}`);
    } else {
      await pipeline(body, process.stdout, { end: false });
    }
    return 0;
  },
  async "datasets upload"(ctx) {
    const file = arg(ctx, 0, "file");
    const v = ctx.values;
    try {
      statSync(file);
    } catch {
      throw new UsageError(`cannot read ${file}`);
    }
    const ext = path.extname(file).toLowerCase().slice(1);
    const format = str(v, "format") ?? ({ csv: "csv", jsonl: "jsonl", ndjson: "jsonl", json: "json" } as Record<string, string>)[ext];
    if (!format) throw new UsageError(`cannot infer the format from ${file}: give --format csv|jsonl|json|openai`);
    const contentType = format === "csv" ? "text/csv" : format === "json" ? "application/json" : "application/x-ndjson";
    const ds = await ctx.api.uploadDatasetBody(Readable.toWeb(createReadStream(file)) as unknown as BodyInit, {
      name: str(v, "name") ?? path.basename(file).replace(/\.[^.]+$/, ""),
      format,
      id_field: str(v, "id-field"),
      description: str(v, "description"),
      contentType,
      contentLength: statSync(file).size,
    });
    if (ctx.json) ctx.out(JSON.stringify(ds, null, 2));
    else ctx.out(`uploaded ${ds.name} (${ds.id}): ${ds.record_count} records, id field ${ds.id_field ?? "-"}`);
    return 0;
  },
  async "datasets list"(ctx) {
    const page = await ctx.api.listDatasets(str(ctx.values, "cursor"), { limit: str(ctx.values, "limit") });
    printList(ctx, page, ["id", "name", "kind", "format", "record_count", "created_at"]);
    return 0;
  },
  async "prompts list"(ctx) {
    const v = ctx.values;
    const page = await ctx.api.listPrompts({ status: str(v, "status"), batch_id: str(v, "batch"), limit: str(v, "limit") }, str(v, "cursor"));
    printList(ctx, page, ["id", "status", "batch_id", "record_id", "question", "answer"]);
    return 0;
  },
  async "prompts answer"(ctx) {
    const id = arg(ctx, 0, "prompt id");
    const raw = arg(ctx, 1, "answer");
    let answer: unknown = raw;
    try {
      answer = JSON.parse(raw);
    } catch {
      // not JSON: answer with the string
    }
    const prompt = await ctx.api.answerPrompt(id, answer);
    if (ctx.json) ctx.out(JSON.stringify(prompt, null, 2));
    else ctx.out(`answered ${id}: ${JSON.stringify(prompt.answer)}`);
    return 0;
  },
  async flows(ctx) {
    const out = await ctx.api.listFlows();
    if (ctx.json) ctx.out(JSON.stringify(out, null, 2));
    else ctx.out(table(out.items as unknown as Record<string, unknown>[], ["name", "default_dataset", "description"]));
    return 0;
  },
};

async function batchAction(ctx: Ctx, action: "cancel" | "pause" | "resume"): Promise<number> {
  const id = arg(ctx, 0, "batch");
  const b = await (action === "cancel" ? ctx.api.cancelBatch(id) : action === "pause" ? ctx.api.pauseBatch(id) : ctx.api.resumeBatch(id));
  if (ctx.json) ctx.out(JSON.stringify(b, null, 2));
  else ctx.out(`${b.id} is ${b.status}`);
  return 0;
}

export async function main(
  argv: string[],
  io: { out: (s: string) => void; err: (s: string) => void; env: NodeJS.ProcessEnv } = {
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
    env: process.env,
  },
): Promise<number> {
  // a first, lenient pass only to find the command words (string options consume their values)
  const allOptions = Object.assign({}, GLOBAL, ...Object.values(COMMAND_OPTIONS)) as Options;
  const words = parseArgs({ args: argv, options: allOptions, allowPositionals: true, strict: false }).positionals;
  const first = words[0];
  const name = first && (first === "datasets" || first === "prompts") && words[1] ? `${first} ${words[1]}` : first;
  if (!name || argv.includes("--help") || argv.includes("-h") || name === "help") {
    io.out(HELP);
    return name && name !== "help" && !COMMAND_OPTIONS[name] ? 2 : 0;
  }
  const options = COMMAND_OPTIONS[name];
  const run = COMMANDS[name];
  if (!options || !run) {
    io.err(`unknown command: ${name}\n\n${HELP}`);
    return 2;
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...GLOBAL, ...options }, allowPositionals: true, strict: true });
    const args = positionals.slice(name.split(" ").length);
    const api = connect({
      url: (values.url as string | undefined) ?? io.env.BATCHBOARD_URL ?? "http://localhost:3000",
      token: (values.token as string | undefined) ?? io.env.BATCHBOARD_TOKEN,
    });
    return await run({ api, values: values as Values, args, json: values.json === true, out: io.out, err: io.err });
  } catch (err) {
    if (err instanceof ApiError) {
      io.err(`error: ${err.code}${err.status ? ` (${err.status})` : ""}: ${err.message}`);
      for (const d of err.details) io.err(`  ${d.path ? `${d.path}: ` : ""}${d.message}`);
      return 1;
    }
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.err(`usage: ${(err as Error).message} (batchboard --help)`);
      return 2;
    }
    io.err(`error: ${(err as Error).message}`);
    return 1;
  }
}
