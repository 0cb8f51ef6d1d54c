import { z } from "zod";
import { routeForModel } from "@/lib/config";
import { requestJson } from "./http-client";
import { apiKeyEnvSchema, authHeaders, endpoint } from "./llm";
import { renderTemplate } from "./template";
import { defineFlow, FlowError } from "./types";

interface EmbeddingResponse {
  model?: string;
  data?: { embedding?: unknown }[];
  usage?: { prompt_tokens?: number; total_tokens?: number };
}

export const embed = defineFlow({
  name: "embed",
  description: "Computes an embedding per record with any OpenAI-compatible /embeddings API, with cost from token usage.",
  parameters: z.object({
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
  }),
  estimateTokens(params, record) {
    return Math.ceil(renderTemplate(params.input, record).length / 4);
  },
  async run(record, ctx) {
    const { params } = ctx;
    const body: Record<string, unknown> = { model: params.model, input: renderTemplate(params.input, record) };
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
      signal: ctx.signal,
    });
    const json = (res.json ?? {}) as EmbeddingResponse;
    const tokens = json.usage?.prompt_tokens ?? json.usage?.total_tokens ?? 0;
    // a routed model is priced by its route unless the batch names a price
    const pricePer1m = params.prices.input_per_1m || (upstream?.prices.inputPer1m ?? 0);
    const cost = (tokens * pricePer1m) / 1_000_000;
    if (cost > 0) ctx.reportCost(cost);
    if (json.usage) ctx.reportUsage({ input_tokens: tokens, output_tokens: 0 });
    const embedding = Array.isArray(json.data) ? json.data[0]?.embedding : undefined;
    if (!Array.isArray(embedding) || !embedding.every((v) => typeof v === "number")) {
      throw new FlowError("invalid_response", "the response has no numeric data[0].embedding", { retryable: false });
    }
    return {
      embedding,
      dimensions: embedding.length,
      usage: { prompt_tokens: tokens, total_tokens: json.usage?.total_tokens ?? tokens },
      model: json.model ?? params.model,
    };
  },
});
