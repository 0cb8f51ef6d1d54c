// The New batch form's state and how it becomes a POST /api/batches body. The body is checked with
// the API's own schema (createBatchSchema) before it is sent, so a value the API would refuse is shown
// at its field without a round trip, with the API's words; the flow's parameters are checked against
// its JSON Schema (lib/client/json-schema.ts).
import { createBatchSchema, type CreateBatchBody } from "@/lib/contract/batch-options";
import type { Batch } from "@/lib/client/types";
import { buildParameters, type FieldValues, type SchemaField } from "@/lib/client/json-schema";
import { parseRecords, type RecordsFormat } from "@/lib/client/records";

/** messages per field path ("concurrency", "parameters.url", "error_threshold.rate") */
export type Errors = Record<string, string[]>;

/** The option paths the form has a field for; an error on any other path goes to the summary. */
export const OPTION_PATHS = [
  "name",
  "flow",
  "dataset",
  "records",
  "record_id_field",
  "shuffle",
  "seed",
  "max_records",
  "concurrency",
  "chunk_size",
  "error_policy",
  "error_threshold.rate",
  "error_threshold.min_finished",
  "error_threshold",
  "max_retries",
  "retry_backoff_ms",
  "timeout_ms",
  "max_cost",
  "cost_reservation.per_record",
  "cost_reservation",
  "priority",
  "interactive",
  "cache",
  "cache_max_age",
  "rate_limit.requests_per_minute",
  "rate_limit.tokens_per_minute",
  "rate_limit.key",
  "rate_limit",
];

/** The run options as typed (text until the body is built). */
export interface Opts {
  name: string;
  shuffle: boolean;
  seed: string;
  max_records: string;
  concurrency: string;
  /** records per call, for a flow that chunks; blank: the flow's default */
  chunk_size: string;
  error_policy: "continue" | "stop";
  threshold_on: boolean;
  threshold_rate: string;
  threshold_min: string;
  max_retries: string;
  retry_backoff_ms: string;
  timeout_ms: string;
  max_cost: string;
  /** "": jobs in flight may overshoot the budget; "mean" or "per_record": their cost is counted before they start */
  cost_reservation: "" | "mean" | "per_record";
  cost_reservation_per_record: string;
  priority: string;
  /** null: as the flow wants (on for a flow that asks a human) */
  interactive: boolean | null;
  /** reuse earlier batches' results; null: as the flow's default */
  cache: boolean | null;
  cache_max_age: string;
  cache_answers: boolean;
  /** the rate limit: all blank for none */
  rate_rpm: string;
  rate_tpm: string;
  rate_key: string;
}

export const DEFAULT_OPTS: Opts = {
  name: "",
  shuffle: true,
  seed: "",
  max_records: "",
  concurrency: "5",
  chunk_size: "",
  error_policy: "continue",
  threshold_on: false,
  threshold_rate: "0.5",
  threshold_min: "20",
  max_retries: "",
  retry_backoff_ms: "",
  timeout_ms: "",
  max_cost: "",
  cost_reservation: "",
  cost_reservation_per_record: "",
  priority: "",
  interactive: null,
  cache: null,
  cache_max_age: "",
  cache_answers: false,
  rate_rpm: "",
  rate_tpm: "",
  rate_key: "",
};

/** A batch's options as the form shows them: running it again starts from these. */
export function optsFromBatch(b: Batch): Opts {
  const o = b.options;
  const text = (v: number | string | null) => (v === null ? "" : String(v));
  return {
    name: b.name ?? "",
    shuffle: o.shuffle,
    seed: o.seed ?? "",
    max_records: text(o.max_records),
    concurrency: String(o.concurrency),
    chunk_size: String(o.chunk_size),
    error_policy: o.error_policy,
    threshold_on: o.error_threshold !== null,
    threshold_rate: o.error_threshold ? String(o.error_threshold.rate) : DEFAULT_OPTS.threshold_rate,
    threshold_min: o.error_threshold ? String(o.error_threshold.min_finished) : DEFAULT_OPTS.threshold_min,
    max_retries: String(o.max_retries),
    retry_backoff_ms: String(o.retry_backoff_ms),
    timeout_ms: text(o.timeout_ms),
    max_cost: text(o.max_cost),
    cost_reservation: o.cost_reservation == null ? "" : o.cost_reservation === "mean" ? "mean" : "per_record",
    cost_reservation_per_record: o.cost_reservation != null && o.cost_reservation !== "mean" ? String(o.cost_reservation.per_record) : "",
    priority: String(o.priority),
    interactive: o.interactive,
    cache: o.cache,
    cache_max_age: text(o.cache_max_age),
    cache_answers: o.cache_answers,
    rate_rpm: text(o.rate_limit?.requests_per_minute ?? null),
    rate_tpm: text(o.rate_limit?.tokens_per_minute ?? null),
    rate_key: o.rate_limit?.key ?? "",
  };
}

/** The options whose value differs from `initial` (what a run-again changes). */
export function changedOptions(current: Opts, initial: Opts): Set<keyof Opts> {
  return new Set((Object.keys(initial) as (keyof Opts)[]).filter((k) => String(current[k]) !== String(initial[k])));
}

/** Which of the parent's records a run-again takes. */
export type RunAgainRecords = "all" | "failed" | "cancelled";

/** A run-again's body: the form's values over the parent's, on the records chosen (the parent's dataset). */
export function cloneBodyOf(body: CreateBatchBody, records: RunAgainRecords): Record<string, unknown> {
  const { records: _inline, dataset: _dataset, record_id_field: _idField, flow: _flow, ...changes } = body;
  return { ...changes, records };
}

export interface Source {
  kind: "dataset" | "records";
  dataset: string;
  recordsText: string;
  recordsFormat: RecordsFormat;
  recordIdField: string;
}

type ChunkJson = { default_size: number; max_size: number; min_size: number };
type FlowChunkJson = { [K in keyof ChunkJson]: number | null } & { parameter: string | null; modes: Record<string, ChunkJson> | null };

/**
 * The chunk sizes a batch of `flow` with these parameter values runs with (the flow's one declaration,
 * as GET /api/flows gives it: per mode where it has modes), or null: one record per call.
 */
export function chunkSizesOf(flow: { chunk?: FlowChunkJson | null }, values: FieldValues, fields: readonly SchemaField[] = []): ChunkJson | null {
  const c = flow.chunk;
  if (!c) return null;
  if (c.modes) {
    // "(default)" chosen: the parameter's default mode
    const mode = c.parameter ? values[c.parameter] || fields.find((f) => f.name === c.parameter)?.default : undefined;
    return typeof mode === "string" ? (c.modes[mode] ?? null) : null;
  }
  if (c.default_size === null || c.max_size === null) return null;
  return { default_size: c.default_size, max_size: c.max_size, min_size: c.min_size ?? 1 };
}

/** The mode the form's parameters choose, when the flow has modes (parameters.mode): "live", "provider_batch", ... */
export const chosenMode = (values: FieldValues): string | null => (typeof values.mode === "string" && values.mode ? values.mode : null);

export interface FormInput {
  flow: { name: string; default_dataset?: string | null; chunk?: FlowChunkJson | null };
  fields: SchemaField[];
  values: FieldValues;
  source: Source;
  opts: Opts;
  interactive: boolean;
  dryRun: boolean;
}

/** Files each detail under the longest known field path it starts with; the rest go to the summary. */
export function groupErrors(details: { path?: string; message: string }[], known: string[]): { byField: Errors; other: string[] } {
  const byField: Errors = {};
  const other: string[] = [];
  const sorted = [...known].sort((a, b) => b.length - a.length);
  for (const d of details) {
    const p = d.path ?? "";
    const hit = sorted.find((k) => p === k || p.startsWith(`${k}.`));
    if (hit) {
      const msg = hit === p ? d.message : `${p.slice(hit.length + 1)}: ${d.message}`;
      (byField[hit] ??= []).push(msg);
    } else other.push(p ? `${p}: ${d.message}` : d.message);
  }
  return { byField, other };
}

const NUMBER_OPTIONS = ["max_records", "concurrency", "max_retries", "retry_backoff_ms", "timeout_ms", "max_cost", "priority", "cache_max_age"] as const;
/** an option typed as a number */
export type NumberOption = (typeof NUMBER_OPTIONS)[number] | "chunk_size";

/** A number typed in a text box: blank is "not given", anything else must read as a number. */
function readNumber(text: string): number | undefined | null {
  const t = text.trim();
  if (!t) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/**
 * The request body for the form's state, and the errors that keep it from being sent: the flow's
 * parameters against its schema, the records as parsed, and the whole body against the API's schema.
 */
export function buildBody(input: FormInput): { body: CreateBatchBody; errors: Errors } {
  const { flow, fields, values, source, opts } = input;
  const errors: Errors = {};
  const { parameters, errors: paramErrors } = buildParameters(fields, values);
  for (const [k, v] of Object.entries(paramErrors)) errors[k] = [v];

  const body: CreateBatchBody = { flow: flow.name, parameters, shuffle: opts.shuffle, error_policy: opts.error_policy, interactive: input.interactive };
  if (opts.name.trim()) body.name = opts.name.trim();
  if (opts.seed.trim()) body.seed = opts.seed.trim();
  if (opts.cache !== null) body.cache = opts.cache;
  if (opts.cache_answers) body.cache_answers = true;
  for (const key of NUMBER_OPTIONS) {
    const n = readNumber(opts[key]);
    if (n === null) errors[key] = ["Must be a number"];
    else if (n !== undefined) body[key] = n;
  }
  // only a flow that chunks (in the chosen mode) takes it: the field is shown only then
  if (chunkSizesOf(flow, values, fields)) {
    const n = readNumber(opts.chunk_size);
    if (n === null) errors.chunk_size = ["Must be a number"];
    else if (n !== undefined) body.chunk_size = n;
  }
  if (opts.threshold_on) {
    const rate = readNumber(opts.threshold_rate);
    const min = readNumber(opts.threshold_min);
    if (rate == null) errors["error_threshold.rate"] = ["Must be a number"];
    if (min === null) errors["error_threshold.min_finished"] = ["Must be a number"];
    body.error_threshold = { rate: rate ?? 0, min_finished: min ?? 1 };
  }
  if (opts.cost_reservation && !opts.max_cost.trim()) errors.cost_reservation = ["Needs a max cost: it reserves against the budget"];
  if (opts.cost_reservation === "mean") body.cost_reservation = "mean";
  else if (opts.cost_reservation === "per_record") {
    const n = readNumber(opts.cost_reservation_per_record);
    if (n == null) errors["cost_reservation.per_record"] = [n === null ? "Must be a number" : "Give the expected cost of one record"];
    else body.cost_reservation = { per_record: n };
  }
  const rpm = readNumber(opts.rate_rpm);
  const tpm = readNumber(opts.rate_tpm);
  const key = opts.rate_key.trim();
  if (rpm === null) errors["rate_limit.requests_per_minute"] = ["Must be a number"];
  if (tpm === null) errors["rate_limit.tokens_per_minute"] = ["Must be a number"];
  if (rpm != null || tpm != null || key) {
    body.rate_limit = { ...(rpm != null && { requests_per_minute: rpm }), ...(tpm != null && { tokens_per_minute: tpm }), ...(key && { key }) };
  }
  if (source.kind === "dataset") {
    if (source.dataset) body.dataset = source.dataset;
    else if (!flow.default_dataset) errors.dataset = ["Pick a dataset, or paste records"];
  } else {
    const parsed = parseRecords(source.recordsText, source.recordsFormat);
    if (!parsed.ok) errors[parsed.path.startsWith("records") ? "records" : parsed.path] = [parsed.message];
    else {
      body.records = parsed.records;
      const idField = source.recordIdField.trim();
      if (idField && idField !== "id") body.record_id_field = idField;
    }
  }
  if (input.dryRun) body.dry_run = true;

  const checked = createBatchSchema.safeParse(body);
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const path = issue.path.join(".");
      // a field already refused as typed keeps that message; the records' own check names the line
      if (errors[path] || (path.startsWith("records") && errors.records)) continue;
      (errors[path] ??= []).push(issue.message);
    }
  }
  return { body, errors };
}
