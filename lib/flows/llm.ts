import { z } from "zod";
import { asFileRecord, readBatchRecordFile } from "@/lib/datasets/files";
import { unsendableFiles } from "@/lib/db/sql/datasets";
import type { FileRecord } from "@/lib/datasets/files/types";
import { AppError } from "@/lib/errors";
import { ANTHROPIC_BASE_URL, anthropicAnswer, anthropicFileBlock, anthropicMessage, anthropicRequestBody, type AnthropicAnswer, type AnthropicBlock } from "./anthropic";
import { citationsByField } from "./field-citations";
import { filePart, fileKind, SENDABLE_TYPES, SENDABLE_TYPES_TEXT, type ContentPart } from "./file-parts";
import { requestJson } from "./http-client";
import type { KeptResponse } from "./openai";
import { readFlowSecret, secretEnvNameSchema } from "./secrets";
import { renderTemplate } from "./template";
import { PROVIDER_BATCH_CHUNK } from "./provider-batch/openai";
import { runProviderBatchChunk } from "./provider-batch/run";
import { defineFlow, FlowError, type ChunkContext, type FlowContext, type FlowRecord } from "./types";

const responseFormatSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).default("result"),
    schema: z.record(z.string(), z.unknown()).describe("JSON Schema the answer must match"),
    strict: z.boolean().default(true),
  }),
]);

export const pricesSchema = z
  .object({
    input_per_1m: z.number().min(0).default(0).describe("price per million input (prompt) tokens"),
    output_per_1m: z.number().min(0).default(0).describe("price per million output (completion) tokens"),
  })
  .default({ input_per_1m: 0, output_per_1m: 0 });

export const OPENAI_BASE_URL = "https://api.openai.com/v1";

export const baseUrlSchema = z
  .string()
  .regex(/^https?:\/\//i, "must start with http:// or https://")
  .default(OPENAI_BASE_URL)
  .describe("OpenAI-compatible API root, e.g. http://localhost:11434/v1 for Ollama");

export const apiKeyEnvSchema = secretEnvNameSchema
  .optional()
  .describe(
    "environment variable holding the API key (sent as a Bearer token), listed in BATCHBOARD_FLOW_SECRETS on the server (BATCHBOARD_*, DATABASE_URL, PG* never are); unset: no key (local servers)",
  );

export function authHeaders(apiKeyEnv: string | undefined): Record<string, string> {
  return apiKeyEnv ? { authorization: `Bearer ${readFlowSecret(apiKeyEnv)}` } : {};
}

export function endpoint(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/${path}`;
}

interface ChatCompletion {
  model?: string;
  choices?: { message?: { content?: string | null; refusal?: string | null; annotations?: unknown }; finish_reason?: string }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
  /** some OpenAI-compatible providers list their sources here (URLs or objects) */
  citations?: unknown;
}

const MiB = 1024 * 1024;

/**
 * What the provider cited, as a list: the message's annotations (OpenAI's url_citation and the like)
 * and a top-level `citations` list, each entry as the provider gave it (a bare URL as {type: "url", url}).
 */
function citationsOf(completion: ChatCompletion, message: { annotations?: unknown }): unknown[] {
  const annotations = Array.isArray(message.annotations) ? message.annotations : [];
  const listed = Array.isArray(completion.citations) ? completion.citations : [];
  return [...annotations, ...listed.map((c: unknown) => (typeof c === "string" ? { type: "url", url: c } : c))];
}

/** A files batch's record: its file and bytes, refused by name when no model could take it. */
async function readRecordFile(record: FlowRecord, batchId: string, maxBytes: number): Promise<{ file: FileRecord; bytes: Buffer }> {
  const file = asFileRecord(record.data);
  if (!file) throw new FlowError("not_a_file", `record ${JSON.stringify(record.id)} is not a file record (files: true needs a dataset of files)`, { retryable: false });
  const name = JSON.stringify(file.id);
  if (!fileKind(file.content_type)) {
    throw new FlowError("unsupported_file_type", `file ${name} is ${file.content_type}, which cannot be sent to a model: ${SENDABLE_TYPES_TEXT} can`, { retryable: false });
  }
  if (file.bytes > maxBytes) {
    throw new FlowError("file_too_large", `file ${name} has ${file.bytes} bytes, more than max_file_bytes (${maxBytes})`, { retryable: false });
  }
  let bytes: Buffer;
  try {
    bytes = await readBatchRecordFile(batchId, record.position, maxBytes);
  } catch (err) {
    if (err instanceof AppError && err.code === "payload_too_large") {
      throw new FlowError("file_too_large", `file ${name} is larger than max_file_bytes (${maxBytes})`, { retryable: false });
    }
    throw err;
  }
  return { file, bytes };
}

/** The file's part or block as `build` makes it; text that is not UTF-8 fails the record by name. */
function fileBlock<T>(file: FileRecord, build: () => T): T {
  try {
    return build();
  } catch {
    throw new FlowError("invalid_text", `file ${JSON.stringify(file.id)} is ${file.content_type} but not UTF-8 text`, { retryable: false });
  }
}

/** The user message of a files batch: the prompt, then the record's file as the provider takes it. */
async function fileMessageContent(record: FlowRecord, userPrompt: string, batchId: string, maxBytes: number): Promise<ContentPart[]> {
  const { file, bytes } = await readRecordFile(record, batchId, maxBytes);
  return [{ type: "text", text: renderTemplate(userPrompt, record) }, fileBlock(file, () => filePart(file, bytes))!];
}

/** The same for Anthropic: the prompt's text block, then the file's document or image block. */
async function anthropicFileContent(record: FlowRecord, userPrompt: string, batchId: string, maxBytes: number, citations: boolean): Promise<AnthropicBlock[]> {
  const { file, bytes } = await readRecordFile(record, batchId, maxBytes);
  return [{ type: "text", text: renderTemplate(userPrompt, record) }, fileBlock(file, () => anthropicFileBlock(file, bytes, citations))!];
}

const llmParameters = z.object({
  mode: z
    .enum(["live", "provider_batch"])
    .default("live")
    .describe(
      `live: one call per record as it runs; provider_batch: records go in groups of chunk_size (${PROVIDER_BATCH_CHUNK.minSize} to ${PROVIDER_BATCH_CHUNK.maxSize}, default ${PROVIDER_BATCH_CHUNK.defaultSize}) to the provider's batch tier (OpenAI's Batch API, Anthropic's Message Batches) at its discount, and wait there holding no worker slot`,
    ),
  provider_discount: z
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .describe("provider_batch: the share of the prices a provider batch costs (OpenAI and Anthropic: 0.5)"),
  provider: z
    .enum(["openai", "anthropic"])
    .default("openai")
    .describe("openai: any OpenAI-compatible chat completions API; anthropic: Anthropic's Messages API (files as document blocks, JSON schema as a forced tool)"),
  base_url: z
    .string()
    .regex(/^https?:\/\//i, "must start with http:// or https://")
    .optional()
    .describe(`API root; default ${OPENAI_BASE_URL} (openai) or ${ANTHROPIC_BASE_URL} (anthropic); e.g. http://localhost:11434/v1 for Ollama`),
  model: z.string().min(1),
  system_prompt: z.string().optional().describe("system message; {{record.field}} placeholders allowed"),
  user_prompt: z.string().min(1).default("{{record}}").describe("user message; {{record.field}} placeholders, {{record}} for the whole record as JSON"),
  temperature: z.number().min(0).max(2).optional(),
  max_tokens: z.number().int().min(1).optional(),
  response_format: responseFormatSchema.optional(),
  api_key_env: apiKeyEnvSchema,
  prices: pricesSchema,
  timeout_ms: z.number().int().min(1).max(600_000).default(120_000),
  files: z
    .boolean()
    .default(false)
    .describe(
      "send each record's file (a dataset of files) with user_prompt: text inline, images as image_url data URLs, PDFs as file parts",
    ),
  citations: z
    .boolean()
    .default(false)
    .describe("provider anthropic with files: ask for citations of the file (kept in result.citations); not with a json_schema response_format"),
  max_file_bytes: z
    .number()
    .int()
    .min(1)
    .max(50 * MiB)
    .default(20 * MiB)
    .describe("with files: a file larger than this fails its record (file_too_large) instead of being sent"),
}).superRefine((p, issues) => {
  const refuse = (path: string, message: string) => issues.addIssue({ code: "custom", path: [path], message });
  if (p.provider === "anthropic" && p.response_format?.type === "json_object") {
    refuse("response_format", "provider anthropic has no JSON mode: give a json_schema (asked for as a forced tool)");
  }
  if (p.citations) {
    if (p.provider !== "anthropic") refuse("citations", "asked for with provider anthropic only (OpenAI-compatible providers return theirs unasked, kept in result.citations)");
    else if (!p.files) refuse("citations", "citations cite the record's file: they need files: true");
    else if (p.response_format?.type === "json_schema") refuse("citations", "Anthropic does not cite in a structured (json_schema) answer: drop one of the two");
  }
});
export type LlmParams = z.output<typeof llmParameters>;

export const llm = defineFlow({
  name: "llm",
  description:
    "Runs a chat completion per record against any OpenAI-compatible API (OpenAI, Ollama, vLLM, LM Studio) or Anthropic's Messages API, with prompt templates, a dataset's files (PDFs, images, text) with files: true, optional JSON-schema output, citations, and cost from token usage.",
  parameters: llmParameters,
  // provider_batch mode sends chunk_size records per provider batch; live mode one record per call
  chunk: { parameter: "mode", modes: { provider_batch: PROVIDER_BATCH_CHUNK } },
  runChunk: (records, ctx) => runProviderBatch(records, ctx),
  async checkSource(params, source) {
    if (!params.files) return;
    if (source.format !== "files") {
      const message = `files: true needs a dataset of files; ${JSON.stringify(source.name)} holds ${source.format ?? "JSON"} records`;
      throw new AppError("validation_failed", message, [{ path: "parameters.files", message }]);
    }
    // content types are known once uploaded: a file no model can take refuses the batch, not its record
    const rows = await unsendableFiles(source.db, source.datasetId, SENDABLE_TYPES, 5);
    if (rows.length === 0) return;
    const details = rows.map((r) => ({ path: "parameters.files", message: `file ${JSON.stringify(r.record_id)} is ${r.type}, which cannot be sent to a model` }));
    throw new AppError(
      "validation_failed",
      `files: true sends each file to the model, and ${JSON.stringify(source.name)} holds files it cannot take (${details.map((d) => d.message).join("; ")}${rows.length === 5 ? "; maybe more" : ""}): ${SENDABLE_TYPES_TEXT} can be sent`,
      details,
    );
  },
  estimateTokens(params, record) {
    // the prompt as sent, and the longest answer asked for (a provider counts that too)
    const prompt = (params.system_prompt ? renderTemplate(params.system_prompt, record).length : 0) + renderTemplate(params.user_prompt, record).length;
    return Math.ceil(prompt / 4) + (params.max_tokens ?? 0);
  },
  async run(record, ctx) {
    const { params } = ctx;
    if (params.mode === "provider_batch") {
      throw new FlowError("chunk_size_required", "mode provider_batch sends records in groups: this batch's chunk_size is 1", { retryable: false });
    }
    if (params.provider === "anthropic") return runAnthropic(record, ctx);
    const body = await chatRequestBody(params, record, ctx.batchId);
    const res = await requestJson({
      url: endpoint(params.base_url ?? OPENAI_BASE_URL, "chat/completions"),
      headers: authHeaders(params.api_key_env),
      body,
      timeoutMs: params.timeout_ms,
      signal: ctx.signal,
    });
    const response: KeptResponse = { status_code: res.status, request_id: res.headers.get("x-request-id") ?? `req_${ctx.batchId}_${record.position}`, body: res.json };
    // tokens were spent even if the answer turns out unusable below
    const spent = chatUsage(params, response.body, 1);
    if (spent.cost > 0) ctx.reportCost(spent.cost);
    if (spent.reported) ctx.reportUsage({ input_tokens: spent.usage.prompt_tokens, output_tokens: spent.usage.completion_tokens });
    else ctx.log("the response carried no token usage: cost counted as 0", "warn");
    return chatResult(params, response, spent.usage);
  },
});

/** The chat completions request of one record (OpenAI-compatible), as a live call or a provider batch line sends it. */
export async function chatRequestBody(params: LlmParams, record: FlowRecord, batchId: string): Promise<Record<string, unknown>> {
  const messages = [
    ...(params.system_prompt ? [{ role: "system", content: renderTemplate(params.system_prompt, record) }] : []),
    {
      role: "user",
      content: params.files ? await fileMessageContent(record, params.user_prompt, batchId, params.max_file_bytes) : renderTemplate(params.user_prompt, record),
    },
  ];
  const format = params.response_format;
  const body: Record<string, unknown> = { model: params.model, messages };
  if (params.temperature !== undefined) body.temperature = params.temperature;
  if (params.max_tokens !== undefined) body.max_tokens = params.max_tokens;
  if (format?.type === "json_object") body.response_format = { type: "json_object" };
  if (format?.type === "json_schema") {
    body.response_format = { type: "json_schema", json_schema: { name: format.name, schema: format.schema, strict: format.strict } };
  }
  return body;
}

type ChatUsage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };

/** A completion's token usage and its cost at the batch's prices times `priceFactor` (a provider batch's discount). */
export function chatUsage(params: LlmParams, body: unknown, priceFactor: number): { usage: ChatUsage; cost: number; reported: boolean } {
  const completion = (body ?? {}) as ChatCompletion;
  const usage = {
    prompt_tokens: completion.usage?.prompt_tokens ?? 0,
    completion_tokens: completion.usage?.completion_tokens ?? 0,
    total_tokens: completion.usage?.total_tokens ?? (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0),
  };
  const cost = ((usage.prompt_tokens * params.prices.input_per_1m + usage.completion_tokens * params.prices.output_per_1m) / 1_000_000) * priceFactor;
  return { usage, cost, reported: completion.usage !== undefined };
}

/** The llm flow's result from a completion (live or a provider batch's output line); a FlowError when it has no usable answer. */
export function chatResult(params: LlmParams, response: KeptResponse, usage: ChatUsage) {
  const completion = (response.body ?? {}) as ChatCompletion;
  const message = Array.isArray(completion.choices) ? completion.choices[0]?.message : undefined;
  if (!message) throw new FlowError("invalid_response", "the response has no choices[0].message", { retryable: false });
  if (message.refusal) throw new FlowError("model_refused", `the model refused: ${message.refusal}`, { retryable: false });
  const content = typeof message.content === "string" ? message.content : "";
  const citations = citationsOf(completion, message);
  const format = params.response_format;
  const result: {
    content: string;
    parsed?: unknown;
    citations?: unknown[];
    field_citations?: Record<string, unknown[]>;
    usage: ChatUsage;
    model: string;
    response: KeptResponse;
  } = {
    content,
    usage,
    model: completion.model ?? params.model,
    // the completion as it came: the openai export writes it unchanged
    response,
  };
  if (citations.length) result.citations = citations;
  if (format && format.type !== "text") {
    try {
      result.parsed = JSON.parse(content);
    } catch {
      // models occasionally break format; another attempt may well succeed
      throw new FlowError("invalid_model_output", `the model's answer is not valid JSON: ${content.slice(0, 200)}`, { retryable: true });
    }
    const byField = citationsByField(content, result.parsed, citations);
    if (Object.keys(byField).length) result.field_citations = byField;
  }
  return result;
}

async function runAnthropic(record: FlowRecord, ctx: FlowContext<LlmParams>) {
  const { params } = ctx;
  const answer = await anthropicMessage({
    ...(await anthropicMessageOf(params, record, ctx.batchId)),
    baseUrl: params.base_url ?? ANTHROPIC_BASE_URL,
    apiKeyEnv: params.api_key_env,
    timeoutMs: params.timeout_ms,
    signal: ctx.signal,
    fallbackRequestId: `req_${ctx.batchId}_${record.position}`,
  });
  const cost = anthropicCost(params, answer, 1);
  if (cost > 0) ctx.reportCost(cost);
  if (answer.hadUsage) ctx.reportUsage({ input_tokens: answer.usage.prompt_tokens, output_tokens: answer.usage.completion_tokens });
  if (!answer.hadUsage) ctx.log("the response carried no token usage: cost counted as 0", "warn");
  return anthropicResult(answer);
}

/** A record's message to Anthropic, as a live call and a message batch request both send it. */
async function anthropicMessageOf(params: LlmParams, record: FlowRecord, batchId: string) {
  return {
    model: params.model,
    system: params.system_prompt ? renderTemplate(params.system_prompt, record) : undefined,
    content: params.files
      ? await anthropicFileContent(record, params.user_prompt, batchId, params.max_file_bytes, params.citations)
      : renderTemplate(params.user_prompt, record),
    temperature: params.temperature,
    maxTokens: params.max_tokens,
    schema: anthropicSchema(params),
  };
}

/** The JSON schema an Anthropic answer is asked for through a forced tool, or null. */
function anthropicSchema(params: LlmParams): { name: string; schema: Record<string, unknown> } | null {
  const format = params.response_format;
  return format?.type === "json_schema" ? { name: format.name, schema: format.schema } : null;
}

const anthropicCost = (params: LlmParams, answer: AnthropicAnswer, priceFactor: number) =>
  ((answer.usage.prompt_tokens * params.prices.input_per_1m + answer.usage.completion_tokens * params.prices.output_per_1m) / 1_000_000) * priceFactor;

function anthropicResult(answer: AnthropicAnswer) {
  const { hadUsage: _hadUsage, citations, ...result } = answer;
  if (!citations.length) return result;
  const byField = citationsByField(answer.content, answer.parsed, citations);
  return { ...result, citations, ...(Object.keys(byField).length ? { field_citations: byField } : {}) };
}

/**
 * Mode provider_batch: the records of one call go to the provider's batch tier as one provider batch
 * (the same request bodies a live call sends), and come back through the stored outcomes, priced at
 * the batch's prices times provider_discount.
 */
function runProviderBatch(records: FlowRecord[], ctx: ChunkContext<LlmParams>) {
  const { params } = ctx;
  const common = { apiKeyEnv: params.api_key_env, timeoutMs: params.timeout_ms };
  if (params.provider === "anthropic") {
    return runProviderBatchChunk(records, ctx, {
      ...common,
      provider: "anthropic",
      baseUrl: params.base_url ?? ANTHROPIC_BASE_URL,
      endpoint: "/v1/messages",
      body: async (record) => anthropicRequestBody(await anthropicMessageOf(params, record, ctx.batchId)),
      result: (response, i) => {
        const answer = anthropicAnswer({ model: params.model, schema: anthropicSchema(params) }, response);
        ctx.reportCost(anthropicCost(params, answer, params.provider_discount), i);
        return anthropicResult(answer);
      },
    });
  }
  return runProviderBatchChunk(records, ctx, {
    ...common,
    provider: "openai",
    baseUrl: params.base_url ?? OPENAI_BASE_URL,
    endpoint: "/v1/chat/completions",
    body: (record) => chatRequestBody(params, record, ctx.batchId),
    result: (response, i) => {
      const spent = chatUsage(params, response.body, params.provider_discount);
      ctx.reportCost(spent.cost, i);
      return chatResult(params, response, spent.usage);
    },
  });
}
