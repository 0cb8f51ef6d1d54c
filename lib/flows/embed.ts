import { z } from "zod";
import { routeForModel } from "@/lib/config";
import { requestJson } from "./http-client";
import { apiKeyEnvSchema, authHeaders, endpoint } from "./llm";
import { renderTemplate } from "./template";
import { defineFlow, FlowError, type ChunkOutcome, type FlowRecord } from "./types";

interface EmbeddingResponse {
  model?: string;
  data?: { index?: unknown; embedding?: unknown }[];
  usage?: { prompt_tokens?: number; total_tokens?: number };
}

const parameters = z.object({
  base_url: z
    .string()
    .regex(/^https?:\/\//i, "must start with http:// or https://")
    .optional()
    .describe(
      "OpenAI-compatible API root, e.g. http://localhost:11434/v1 for Ollama; unset: the upstream the model routes to (BATCHBOARD_MODEL_ROUTES, else OPENAI_BASE_URL with OPENAI_API_KEY)",
    ),
  model: z.string().min(1),
  input: z.string().min(1).default("{{record.text}}").describe("text to embed; {{record.field}} placeholders"),
  dimensions: z.number().int().min(1).optional(),
  api_key_env: apiKeyEnvSchema,
  prices: z
    .object({ input_per_1m: z.number().min(0).default(0).describe("price per million input tokens") })
    .default({ input_per_1m: 0 }),
  timeout_ms: z.number().int().min(1).max(600_000).default(60_000),
});
type Params = z.output<typeof parameters>;

/** An upstream's limit on inputs per request (OpenAI's is 2048). */
const MAX_INPUTS = 2048;

/** One /embeddings request for `input` (a string, or an array of them); returns the answer and its price per million tokens. */
async function requestEmbeddings(params: Params, input: string | string[], signal: AbortSignal) {
  const body: Record<string, unknown> = { model: params.model, input };
  if (params.dimensions !== undefined) body.dimensions = params.dimensions;
  const upstream = params.base_url ? null : routeForModel(params.model);
  if (upstream?.keyEnv && upstream.apiKey === undefined && !params.api_key_env) {
    throw new FlowError("secret_missing", `environment variable ${upstream.keyEnv} (the key of route ${upstream.name}) is not set on the worker`, {
      retryable: false,
    });
  }
  const routeKey: Record<string, string> = upstream?.apiKey ? { authorization: `Bearer ${upstream.apiKey}` } : {};
  const res = await requestJson({
    url: endpoint(params.base_url ?? upstream!.baseUrl, "embeddings"),
    headers: params.api_key_env ? authHeaders(params.api_key_env) : routeKey,
    body,
    timeoutMs: params.timeout_ms,
    signal,
  });
  const json = (res.json ?? {}) as EmbeddingResponse;
  const tokens = json.usage?.prompt_tokens ?? json.usage?.total_tokens ?? 0;
  // a routed model is priced by its route unless the batch names a price
  const pricePer1m = params.prices.input_per_1m || (upstream?.prices.inputPer1m ?? 0);
  return { json, tokens, cost: (tokens * pricePer1m) / 1_000_000 };
}

const isVector = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === "number");

/** The embeddings of an answer to `n` inputs, by input: `data[].index` where the upstream gives it, else the order of `data`. */
function embeddingsByInput(json: EmbeddingResponse, n: number): (number[] | undefined)[] {
  const out: (number[] | undefined)[] = new Array(n).fill(undefined);
  const data = Array.isArray(json.data) ? json.data : [];
  data.forEach((item, k) => {
    const i = typeof item?.index === "number" ? item.index : k;
    if (Number.isInteger(i) && i >= 0 && i < n && isVector(item?.embedding)) out[i] = item.embedding;
  });
  return out;
}

export const embed = defineFlow({
  name: "embed",
  description: "Computes an embedding per record with any OpenAI-compatible /embeddings API, with cost from token usage.",
  parameters,
  // one input per request unless the batch asks for more (OpenAI-compatible servers take arrays)
  chunk: { defaultSize: 1, maxSize: MAX_INPUTS },
  estimateTokens(params, record) {
    return Math.ceil(renderTemplate(params.input, record).length / 4);
  },
  async run(record, ctx) {
    const { params } = ctx;
    const { json, tokens, cost } = await requestEmbeddings(params, renderTemplate(params.input, record), ctx.signal);
    if (cost > 0) ctx.reportCost(cost);
    if (json.usage) ctx.reportUsage({ input_tokens: tokens, output_tokens: 0 });
    const embedding = Array.isArray(json.data) ? json.data[0]?.embedding : undefined;
    if (!isVector(embedding)) {
      throw new FlowError("invalid_response", "the response has no numeric data[0].embedding", { retryable: false });
    }
    return {
      embedding,
      dimensions: embedding.length,
      usage: { prompt_tokens: tokens, total_tokens: json.usage?.total_tokens ?? tokens },
      model: json.model ?? params.model,
    };
  },
  // Up to chunk_size inputs in one request. The call's tokens and cost are split evenly over the records
  // it embedded. A request the upstream refuses as a whole for what it was sent (400, 413, 422: one input
  // too long, say) is sent again input by input, so only the records it refuses fail.
  async runChunk(records, ctx) {
    const { params } = ctx;
    const outcomes: ChunkOutcome[] = new Array(records.length);
    const inputs: string[] = [];
    const sent: number[] = [];
    records.forEach((r, i) => {
      try {
        inputs.push(renderTemplate(params.input, r));
        sent.push(i);
      } catch (err) {
        outcomes[i] = { error: err instanceof FlowError ? err : new FlowError("template_error", String(err), { retryable: false }) };
      }
    });
    if (sent.length === 0) return outcomes;
    let answer: Awaited<ReturnType<typeof requestEmbeddings>>;
    try {
      answer = await requestEmbeddings(params, inputs, ctx.signal);
    } catch (err) {
      if (!(err instanceof FlowError && /^http_(400|413|422)$/.test(err.code) && sent.length > 1)) throw err;
      ctx.log(`${err.code} for ${sent.length} inputs: sending them one by one`, "warn");
      await oneByOne(records, sent, inputs, outcomes, params, ctx);
      return outcomes;
    }
    const { json, tokens, cost } = answer;
    if (cost > 0) ctx.reportCost(cost);
    if (json.usage) ctx.reportUsage({ input_tokens: tokens, output_tokens: 0 });
    const vectors = embeddingsByInput(json, inputs.length);
    const share = tokens / sent.length;
    sent.forEach((i, k) => {
      const embedding = vectors[k];
      outcomes[i] = embedding
        ? { result: { embedding, dimensions: embedding.length, usage: { prompt_tokens: share, total_tokens: share }, model: json.model ?? params.model } }
        : { error: new FlowError("invalid_response", `the response has no numeric embedding for input ${k} of ${inputs.length} (record ${records[i]!.id})`, { retryable: false }) };
    });
    return outcomes;
  },
});

/** The fallback of a refused chunk: each input alone, one after the other; each record's outcome is its own request's. */
async function oneByOne(
  records: FlowRecord[],
  sent: number[],
  inputs: string[],
  outcomes: ChunkOutcome[],
  params: Params,
  ctx: { signal: AbortSignal; reportCost(amount: number, index?: number): void; reportUsage(u: { input_tokens: number; output_tokens: number }): void },
) {
  for (let k = 0; k < sent.length; k++) {
    const i = sent[k]!;
    try {
      const { json, tokens, cost } = await requestEmbeddings(params, inputs[k]!, ctx.signal);
      if (cost > 0) ctx.reportCost(cost, i);
      if (json.usage) ctx.reportUsage({ input_tokens: tokens, output_tokens: 0 });
      const embedding = embeddingsByInput(json, 1)[0];
      outcomes[i] = embedding
        ? { result: { embedding, dimensions: embedding.length, usage: { prompt_tokens: tokens, total_tokens: json.usage?.total_tokens ?? tokens }, model: json.model ?? params.model } }
        : { error: new FlowError("invalid_response", `the response has no numeric embedding (record ${records[i]!.id})`, { retryable: false }) };
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      outcomes[i] = { error: err instanceof FlowError ? err : new FlowError("flow_error", String(err)) };
    }
  }
}
