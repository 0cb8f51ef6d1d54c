import { z } from "zod";
import { requestJson } from "./http-client";
import { apiKeyEnvSchema, authHeaders, baseUrlSchema, endpoint } from "./llm";
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
    base_url: baseUrlSchema,
    model: z.string().min(1),
    input: z.string().min(1).default("{{record.text}}").describe("text to embed; {{record.field}} placeholders"),
    dimensions: z.number().int().min(1).optional(),
    api_key_env: apiKeyEnvSchema,
    prices: z
      .object({ input_per_1m: z.number().min(0).default(0).describe("price per million input tokens") })
      .default({ input_per_1m: 0 }),
    timeout_ms: z.number().int().min(1).max(600_000).default(60_000),
  }),
  async run(record, ctx) {
    const { params } = ctx;
    const body: Record<string, unknown> = { model: params.model, input: renderTemplate(params.input, record) };
    if (params.dimensions !== undefined) body.dimensions = params.dimensions;
    const res = await requestJson({
      url: endpoint(params.base_url, "embeddings"),
      headers: authHeaders(params.api_key_env),
      body,
      timeoutMs: params.timeout_ms,
      signal: ctx.signal,
    });
    const json = (res.json ?? {}) as EmbeddingResponse;
    const tokens = json.usage?.prompt_tokens ?? json.usage?.total_tokens ?? 0;
    const cost = (tokens * params.prices.input_per_1m) / 1_000_000;
    if (cost > 0) ctx.reportCost(cost);
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
