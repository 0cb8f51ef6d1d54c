import { z } from "zod";
import { headersSchema, requestJson, resolveHeaders } from "./http-client";
import { PLACEHOLDER_PATTERN, renderChunkJsonTemplate, renderJsonTemplate, renderTemplate } from "./template";
import { defineFlow, FlowError, type ChunkOutcome, type FlowRecord } from "./types";

const chunkedSchema = z
  .strictObject({
    item_template: z
      .unknown()
      .optional()
      .describe("each record's item in {{records}}, with {{record.field}} placeholders. Default: the record"),
    results_path: z
      .string()
      .min(1)
      .optional()
      .describe("dot path to the results array in the response, e.g. data or output.items. Default: the response is the array"),
    id_field: z
      .string()
      .min(1)
      .optional()
      .describe("the field of each result that holds its record's id; unset: results map back by index"),
  })
  .describe(
    "chunked mode: one request per chunk of records (the batch's chunk_size); body_template takes {{records}} (the items) and {{record_ids}}, and each result maps back to its record by index or by id_field",
  );

const parameters = z
  .object({
    url: z
      .string()
      .regex(/^https?:\/\//i, "must start with http:// or https://")
      .describe("endpoint URL; {{record.field}} placeholders are URL-encoded"),
    method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).default("POST"),
    headers: headersSchema,
    body_template: z
      .unknown()
      .optional()
      .describe(
        'JSON body with {{record.field}} placeholders; a string that is one placeholder keeps the value\'s type. Default: the record. In chunked mode: {{records}} and {{record_ids}}, default {{records}}',
      ),
    timeout_ms: z.number().int().min(1).max(600_000).default(30_000),
    chunked: chunkedSchema.optional(),
  })
  .superRefine((p, issues) => {
    if (!p.chunked) return;
    if (new RegExp(PLACEHOLDER_PATTERN).test(p.url)) {
      issues.addIssue({ code: "custom", path: ["url"], message: "a chunked request is for many records: the URL takes no placeholders" });
    }
    try {
      renderChunkJsonTemplate(p.body_template ?? "{{records}}", [], []);
    } catch (err) {
      issues.addIssue({ code: "custom", path: ["body_template"], message: (err as Error).message });
    }
    if (p.method === "GET" || p.method === "DELETE") {
      issues.addIssue({ code: "custom", path: ["method"], message: "a chunked request sends its records in the body: POST, PUT or PATCH" });
    }
  });

/** The value at a dot path (`data.items`), or undefined. */
function at(value: unknown, path: string | undefined): unknown {
  if (!path) return value;
  let v = value;
  for (const key of path.split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

export const http = defineFlow({
  name: "http",
  description:
    "Sends each record to an HTTP endpoint and stores the JSON response. 429 and 5xx are retried (honouring Retry-After); other 4xx fail the record. With `chunked`, many records per request.",
  parameters,
  chunk: { defaultSize: 10, maxSize: 1000, parameter: "chunked" },
  async run(record, ctx) {
    const { params } = ctx;
    if (params.chunked) {
      // chunked mode with chunk_size 1: the same request, for one record
      const [outcome] = await sendChunk([record], params, ctx.signal);
      if (outcome && "error" in outcome) throw outcome.error;
      return outcome && "result" in outcome ? outcome.result : undefined;
    }
    const sendsBody = params.method !== "GET" && params.method !== "DELETE";
    const res = await requestJson({
      url: renderTemplate(params.url, record, encodeURIComponent),
      method: params.method,
      headers: resolveHeaders(params.headers),
      body: sendsBody ? (params.body_template === undefined ? record.data : renderJsonTemplate(params.body_template, record)) : undefined,
      timeoutMs: params.timeout_ms,
      signal: ctx.signal,
    });
    return res.json;
  },
  runChunk(records, ctx) {
    return sendChunk(records, ctx.params, ctx.signal);
  },
});

/**
 * One request for the chunk. An answer that cannot be mapped back (not an array, the wrong length by
 * index, no result with a record's id) fails each record it leaves without a result, saying why.
 */
async function sendChunk(records: FlowRecord[], params: z.output<typeof parameters>, signal: AbortSignal): Promise<ChunkOutcome[]> {
  const mode = params.chunked;
  if (!mode) throw new FlowError("chunked_mode_off", "chunk_size > 1 needs parameters.chunked", { retryable: false });
  const outcomes: ChunkOutcome[] = new Array(records.length);
  const items: unknown[] = [];
  const sent: number[] = [];
  records.forEach((r, i) => {
    try {
      items.push(mode.item_template === undefined ? r.data : renderJsonTemplate(mode.item_template, r));
      sent.push(i);
    } catch (err) {
      outcomes[i] = { error: err instanceof FlowError ? err : new FlowError("template_error", String(err), { retryable: false }) };
    }
  });
  if (sent.length === 0) return outcomes;
  const ids = sent.map((i) => records[i]!.id);
  const res = await requestJson({
    url: params.url,
    method: params.method,
    headers: resolveHeaders(params.headers),
    body: renderChunkJsonTemplate(params.body_template ?? "{{records}}", items, ids),
    timeoutMs: params.timeout_ms,
    signal,
  });
  const where = mode.results_path ? `at ${mode.results_path}` : "as the response";
  const results = at(res.json, mode.results_path);
  const fail = (i: number, message: string) => {
    outcomes[i] = { error: new FlowError("invalid_response", message, { retryable: false, result: res.json }) };
  };
  if (!Array.isArray(results)) {
    for (const i of sent) fail(i, `the response has no results array ${where} for a chunk of ${sent.length} records`);
  } else if (mode.id_field) {
    const byId = new Map<string, unknown>();
    for (const r of results) {
      const id = (r as Record<string, unknown> | null)?.[mode.id_field];
      if ((typeof id === "string" || typeof id === "number") && !byId.has(String(id))) byId.set(String(id), r);
    }
    for (const i of sent) {
      const id = records[i]!.id;
      if (byId.has(id)) outcomes[i] = { result: byId.get(id) };
      else fail(i, `no result with ${mode.id_field} ${JSON.stringify(id)} in the ${results.length} results ${where}`);
    }
  } else if (results.length !== sent.length) {
    for (const i of sent) fail(i, `${results.length} results ${where} for ${sent.length} records: they cannot be mapped back by index`);
  } else {
    sent.forEach((i, k) => (outcomes[i] = { result: results[k] }));
  }
  return outcomes;
}
