// One request of an OpenAI Batch input file (`{custom_id, method, url, body}`) sent to the upstream
// its model routes to (lib/config.ts routeForModel). The upstream's status code, request id and body
// are kept as they came, for the batch's output and error files: 2xx succeeds, 429 and 5xx fail
// retryably (Retry-After honoured), anything else fails for good with the response kept.
import { z } from "zod";
import { routeForModel } from "@/lib/config";
import { upstreamUrl, type Prices } from "@/lib/openai/routes";
import { requestJson } from "./http-client";
import { defineFlow, FlowError } from "./types";

export const OPENAI_ENDPOINTS = ["/v1/chat/completions", "/v1/embeddings", "/v1/completions", "/v1/responses"] as const;
export type OpenAIEndpoint = (typeof OPENAI_ENDPOINTS)[number];

/**
 * OpenAI's `response` object of an output line. The `openai` flow's result (and the `llm` flow's) is
 * `{ response: KeptResponse }`; the openai export and the /v1 output files write it unchanged.
 */
export interface KeptResponse {
  status_code: number;
  request_id: string;
  body: unknown;
}

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  input_tokens?: number;
  output_tokens?: number;
}

/** The tokens of one response from its `usage` (chat and completions: prompt/completion, responses: input/output). */
export function usageOf(body: unknown): { input_tokens: number; output_tokens: number } | null {
  const usage = (body as { usage?: Usage } | null)?.usage;
  if (!usage || typeof usage !== "object") return null;
  return {
    input_tokens: Number(usage.prompt_tokens ?? usage.input_tokens ?? 0) || 0,
    output_tokens: Number(usage.completion_tokens ?? usage.output_tokens ?? 0) || 0,
  };
}

/** Cost of one response from its `usage`: chat and completions count prompt/completion tokens, responses input/output. */
export function costOf(body: unknown, prices: Prices): number {
  const usage = (body as { usage?: Usage } | null)?.usage;
  if (!usage || typeof usage !== "object") return 0;
  const input = Number(usage.prompt_tokens ?? usage.input_tokens ?? 0) || 0;
  const output = Number(usage.completion_tokens ?? usage.output_tokens ?? 0) || 0;
  return (input * prices.inputPer1m + output * prices.outputPer1m) / 1_000_000;
}

function upstreamMessage(body: unknown, status: number): string {
  const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
  return typeof message === "string" && message ? message : `the upstream answered ${status}`;
}

export const openai = defineFlow({
  name: "openai",
  description:
    "Sends each record, an OpenAI Batch request line {custom_id, method, url, body}, to the upstream its model routes to (OPENAI_BASE_URL or BATCHBOARD_MODEL_ROUTES) and keeps the response as it came. What /v1/batches runs.",
  parameters: z.object({
    endpoint: z.enum(OPENAI_ENDPOINTS).describe("the OpenAI endpoint every request goes to"),
    timeout_ms: z.number().int().min(1).max(3_600_000).default(600_000),
  }),
  async run(record, ctx) {
    const body = (record.data as { body?: unknown } | null)?.body;
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw new FlowError("invalid_request", "the record has no `body` object to send", { retryable: false });
    }
    const model = (body as { model?: unknown }).model;
    const route = routeForModel(model);
    if (route.keyEnv && route.apiKey === undefined) {
      throw new FlowError("secret_missing", `environment variable ${route.keyEnv} (the key of route ${route.name}) is not set on the worker`, {
        retryable: false,
      });
    }
    const res = await requestJson({
      url: upstreamUrl(route.baseUrl, ctx.params.endpoint),
      headers: route.apiKey ? { authorization: `Bearer ${route.apiKey}` } : {},
      body,
      timeoutMs: ctx.params.timeout_ms,
      signal: ctx.signal,
      httpErrors: "return",
    });
    const kept: KeptResponse = {
      status_code: res.status,
      request_id: res.headers.get("x-request-id") ?? `req_${ctx.batchId}_${record.position}_${ctx.attempt}`,
      // an error page that is not JSON (a proxy's 502) cannot be kept as a body: its text goes in an error object
      body: res.text === undefined ? res.json : { error: { message: res.text, type: "upstream_error", param: null, code: null } },
    };
    // tokens the upstream counted are spent whatever the status
    const cost = costOf(res.json, route.prices);
    if (cost > 0) ctx.reportCost(cost);
    const used = usageOf(res.json);
    if (used) ctx.reportUsage(used);
    const result = { response: kept };
    if (res.status >= 200 && res.status < 300) return result;
    const code = `http_${res.status}`;
    const message = `${route.name === "default" ? "" : `route ${route.name}: `}${upstreamMessage(res.json, res.status)}`;
    if (res.status === 429 || res.status >= 500) {
      throw new FlowError(code, message, { retryable: true, retryAfterMs: res.retryAfterMs, result });
    }
    throw new FlowError(code, message, { retryable: false, result });
  },
});
