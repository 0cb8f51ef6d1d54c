import { z } from "zod";
import { routeForModel } from "@/lib/config";
import { requestJson } from "./http-client";
import { apiKeyEnvSchema, authHeaders, endpoint } from "./llm";
import type { KeptResponse } from "./openai";
import { PROVIDER_BATCH_CHUNK } from "./provider-batch/openai";
import { runProviderBatchChunk } from "./provider-batch/run";
import { renderTemplate } from "./template";
import { defineFlow, FlowError, type ChunkContext, type ChunkOutcome, type ChunkSizes, type FlowRecord } from "./types";

interface EmbeddingResponse {
  model?: string;
  data?: { index?: unknown; embedding?: unknown }[];
  usage?: { prompt_tokens?: number; total_tokens?: number };
}

/** An upstream's limit on inputs per request (OpenAI's is 2048). */
const MAX_INPUTS = 2048;

/** Records per call, by mode: inputs per /embeddings request live, requests per provider batch. */
const CHUNK = {
  parameter: "mode",
  modes: { live: { defaultSize: 1, maxSize: MAX_INPUTS }, provider_batch: PROVIDER_BATCH_CHUNK },
} as const satisfies ChunkSizes;

const parameters = z.object({
  mode: z
    .enum(["live", "provider_batch"])
    .default("live")
    .describe(
      `live: chunk_size inputs per /embeddings request (default ${CHUNK.modes.live.defaultSize}, at most ${CHUNK.modes.live.maxSize}); provider_batch: records go in groups of chunk_size (${CHUNK.modes.provider_batch.minSize} to ${CHUNK.modes.provider_batch.maxSize}, default ${CHUNK.modes.provider_batch.defaultSize}) to an OpenAI-compatible Batch API (/v1/embeddings) at its discount, and wait there holding no worker slot`,
    ),
  provider: z
    .enum(["openai"], { error: "Anthropic has no embeddings API, hence no batch tier for them: embed runs against OpenAI-compatible servers (provider openai)" })
    .default("openai")
    .describe("openai: any OpenAI-compatible /embeddings API (and, in provider_batch mode, its Batch API)"),
  provider_discount: z
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .describe("provider_batch: the share of the prices a provider batch costs (OpenAI: 0.5)"),
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

/**
 * Where a batch's embeddings go: base_url with api_key_env, else the upstream the model routes to with
 * its key; and the price per million input tokens (a routed model's, unless the batch names one).
 */
function upstreamOf(params: Params): { baseUrl: string; keyEnv: string | undefined; headers: Record<string, string>; pricePer1m: number } {
  const upstream = params.base_url ? null : routeForModel(params.model);
  if (upstream?.keyEnv && upstream.apiKey === undefined && !params.api_key_env) {
    throw new FlowError("secret_missing", `environment variable ${upstream.keyEnv} (the key of route ${upstream.name}) is not set on the worker`, {
      retryable: false,
    });
  }
  const routeKey: Record<string, string> = upstream?.apiKey ? { authorization: `Bearer ${upstream.apiKey}` } : {};
  return {
    baseUrl: params.base_url ?? upstream!.baseUrl,
    keyEnv: params.api_key_env ?? upstream?.keyEnv ?? undefined,
    headers: params.api_key_env ? authHeaders(params.api_key_env) : routeKey,
    pricePer1m: params.prices.input_per_1m || (upstream?.prices.inputPer1m ?? 0),
  };
}

/** The /embeddings request body for `input` (a string, or an array of them), live or as a provider batch line. */
function embeddingsBody(params: Params, input: string | string[]): Record<string, unknown> {
  const body: Record<string, unknown> = { model: params.model, input };
  if (params.dimensions !== undefined) body.dimensions = params.dimensions;
  return body;
}

/** One /embeddings request for `input` (a string, or an array of them); returns the answer, its tokens and its cost. */
async function requestEmbeddings(params: Params, input: string | string[], signal: AbortSignal) {
  const upstream = upstreamOf(params);
  const res = await requestJson({
    url: endpoint(upstream.baseUrl, "embeddings"),
    headers: upstream.headers,
    body: embeddingsBody(params, input),
    timeoutMs: params.timeout_ms,
    signal,
  });
  const json = (res.json ?? {}) as EmbeddingResponse;
  const tokens = json.usage?.prompt_tokens ?? json.usage?.total_tokens ?? 0;
  return { json, tokens, cost: (tokens * upstream.pricePer1m) / 1_000_000 };
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
  // live: one input per request unless the batch asks for more (OpenAI-compatible servers take arrays);
  // provider_batch: chunk_size records per provider batch
  chunk: CHUNK,
  estimateTokens(params, record) {
    return Math.ceil(renderTemplate(params.input, record).length / 4);
  },
  async run(record, ctx) {
    const { params } = ctx;
    if (params.mode === "provider_batch") {
      throw new FlowError("chunk_size_required", "mode provider_batch sends records in groups: this batch's chunk_size is 1", { retryable: false });
    }
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
    if (params.mode === "provider_batch") return runProviderBatch(records, ctx);
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

/**
 * Mode provider_batch: the records of one call go to the upstream's Batch API as one provider batch of
 * /v1/embeddings requests (one input each, the body a live call sends), and come back through the
 * stored outcomes, priced at the batch's price times provider_discount.
 */
function runProviderBatch(records: FlowRecord[], ctx: ChunkContext<Params>) {
  const { params } = ctx;
  const upstream = upstreamOf(params);
  return runProviderBatchChunk(records, ctx, {
    provider: "openai",
    baseUrl: upstream.baseUrl,
    apiKeyEnv: upstream.keyEnv,
    timeoutMs: params.timeout_ms,
    endpoint: "/v1/embeddings",
    body: async (record) => embeddingsBody(params, renderTemplate(params.input, record)),
    result: (response: KeptResponse, i: number) => {
      const json = (response.body ?? {}) as EmbeddingResponse;
      const tokens = json.usage?.prompt_tokens ?? json.usage?.total_tokens ?? 0;
      ctx.reportCost(((tokens * upstream.pricePer1m) / 1_000_000) * params.provider_discount, i);
      const embedding = embeddingsByInput(json, 1)[0];
      if (!embedding) throw new FlowError("invalid_response", "the provider's answer has no numeric data[0].embedding", { retryable: false });
      return {
        embedding,
        dimensions: embedding.length,
        usage: { prompt_tokens: tokens, total_tokens: json.usage?.total_tokens ?? tokens },
        model: json.model ?? params.model,
        response,
      };
    },
  });
}
