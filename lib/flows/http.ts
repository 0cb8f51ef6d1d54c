import { z } from "zod";
import { headersSchema, requestJson, resolveHeaders } from "./http-client";
import { renderJsonTemplate, renderTemplate } from "./template";
import { defineFlow } from "./types";

export const http = defineFlow({
  name: "http",
  description:
    "Sends each record to an HTTP endpoint and stores the JSON response. 429 and 5xx are retried (honouring Retry-After); other 4xx fail the record.",
  parameters: z.object({
    url: z
      .string()
      .regex(/^https?:\/\//i, "must start with http:// or https://")
      .describe("endpoint URL; {{record.field}} placeholders are URL-encoded"),
    method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).default("POST"),
    headers: headersSchema,
    body_template: z
      .unknown()
      .optional()
      .describe('JSON body with {{record.field}} placeholders; a string that is one placeholder keeps the value\'s type. Default: the record'),
    timeout_ms: z.number().int().min(1).max(600_000).default(30_000),
  }),
  async run(record, ctx) {
    const { params } = ctx;
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
});
