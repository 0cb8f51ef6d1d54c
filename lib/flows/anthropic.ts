// The llm flow against Anthropic's Messages API (provider: "anthropic"): the same prompts, files and
// structured output as the OpenAI-compatible path, in Anthropic's shapes. Files go as blocks: PDFs and
// text as `document` blocks (with `citations` on when asked), images as `image` blocks; a JSON schema
// is asked for as one forced tool whose input is the answer; the answer's citations are kept.
import type { FileRecord } from "@/lib/datasets/files/types";
import { fileKind } from "./file-parts";
import { requestJson } from "./http-client";
import type { KeptResponse } from "./openai";
import { readFlowSecret } from "./secrets";
import { FlowError } from "./types";

export const ANTHROPIC_BASE_URL = "https://api.anthropic.com/v1";
/** the Messages API version every request names (Anthropic's required header) */
export const ANTHROPIC_VERSION = "2023-06-01";
/** Anthropic needs max_tokens on every request: this when the batch gives none */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

export type AnthropicBlock =
  | { type: "text"; text: string }
  | { type: "image"; source: { type: "base64"; media_type: string; data: string } }
  | {
      type: "document";
      source: { type: "base64"; media_type: "application/pdf"; data: string } | { type: "text"; media_type: "text/plain"; data: string };
      title?: string;
      citations?: { enabled: boolean };
    };

/** The block carrying one file; throws TypeError for text that is not UTF-8, null for a type none exists for. */
export function anthropicFileBlock(file: FileRecord, bytes: Buffer, citations: boolean): AnthropicBlock | null {
  const cite = citations ? { citations: { enabled: true } } : {};
  switch (fileKind(file.content_type)) {
    case "text":
      return { type: "document", source: { type: "text", media_type: "text/plain", data: new TextDecoder("utf-8", { fatal: true }).decode(bytes) }, title: file.filename, ...cite };
    case "image":
      return { type: "image", source: { type: "base64", media_type: file.content_type, data: bytes.toString("base64") } };
    case "pdf":
      return { type: "document", source: { type: "base64", media_type: "application/pdf", data: bytes.toString("base64") }, title: file.filename, ...cite };
    default:
      return null;
  }
}

export interface AnthropicRequest {
  baseUrl: string;
  apiKeyEnv: string | undefined;
  model: string;
  system: string | undefined;
  /** the user turn: a prompt, or the prompt's text block then the file's block */
  content: string | AnthropicBlock[];
  temperature: number | undefined;
  maxTokens: number | undefined;
  /** a JSON schema the answer must match, asked for as a forced tool call */
  schema: { name: string; schema: Record<string, unknown> } | null;
  timeoutMs: number;
  signal: AbortSignal;
  /** a request id for the kept response when the provider gives none */
  fallbackRequestId: string;
}

interface MessageResponse {
  model?: string;
  content?: ({ type: "text"; text?: string; citations?: unknown[] } | { type: "tool_use"; name?: string; input?: unknown } | { type: string })[];
  stop_reason?: string;
  usage?: { input_tokens?: number; output_tokens?: number; cache_creation_input_tokens?: number; cache_read_input_tokens?: number };
}

export interface AnthropicAnswer {
  content: string;
  parsed?: unknown;
  citations: unknown[];
  /** in the OpenAI names the llm flow's results use */
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  hadUsage: boolean;
  model: string;
  response: KeptResponse;
}

export async function anthropicMessage(r: AnthropicRequest): Promise<AnthropicAnswer> {
  const headers: Record<string, string> = { "anthropic-version": ANTHROPIC_VERSION };
  if (r.apiKeyEnv) headers["x-api-key"] = readFlowSecret(r.apiKeyEnv);
  const res = await requestJson({ url: `${r.baseUrl.replace(/\/+$/, "")}/messages`, headers, body: anthropicRequestBody(r), timeoutMs: r.timeoutMs, signal: r.signal });
  return anthropicAnswer(r, { status_code: res.status, request_id: res.headers.get("request-id") ?? r.fallbackRequestId, body: res.json });
}

/** The Messages API request of one record, as a live call or a message batch request sends it. */
export function anthropicRequestBody(r: Pick<AnthropicRequest, "model" | "system" | "content" | "temperature" | "maxTokens" | "schema">): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: r.model,
    max_tokens: r.maxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
    messages: [{ role: "user", content: r.content }],
  };
  if (r.system) body.system = r.system;
  if (r.temperature !== undefined) body.temperature = Math.min(r.temperature, 1); // Anthropic's range is 0-1
  if (r.schema) {
    body.tools = [{ name: r.schema.name, description: "Report the answer. Its input is the whole answer.", input_schema: r.schema.schema }];
    body.tool_choice = { type: "tool", name: r.schema.name };
  }
  return body;
}

/** The answer in a message (live, or a message batch's succeeded result); a FlowError when it has no usable answer. */
export function anthropicAnswer(r: Pick<AnthropicRequest, "model" | "schema">, response: KeptResponse): AnthropicAnswer {
  const message = (response.body ?? {}) as MessageResponse;
  const input = (message.usage?.input_tokens ?? 0) + (message.usage?.cache_creation_input_tokens ?? 0) + (message.usage?.cache_read_input_tokens ?? 0);
  const output = message.usage?.output_tokens ?? 0;
  const answer: AnthropicAnswer = {
    content: "",
    citations: [],
    usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output },
    hadUsage: message.usage !== undefined,
    model: message.model ?? r.model,
    response,
  };
  if (!Array.isArray(message.content)) throw new FlowError("invalid_response", "the response has no content blocks", { retryable: false });
  for (const block of message.content) {
    if (block.type === "text" && "text" in block) {
      answer.content += block.text ?? "";
      if (Array.isArray(block.citations)) answer.citations.push(...block.citations);
    }
  }
  if (r.schema) {
    const tool = message.content.find((b): b is { type: "tool_use"; name?: string; input?: unknown } => b.type === "tool_use" && "name" in b && b.name === r.schema!.name);
    if (!tool || tool.input === undefined) {
      // the model stopped before answering (max_tokens) or answered in prose: another attempt may do better
      throw new FlowError("invalid_model_output", `the model did not answer through the ${r.schema.name} tool (stop_reason ${message.stop_reason ?? "unknown"})`, { retryable: true });
    }
    answer.parsed = tool.input;
    answer.content = JSON.stringify(tool.input);
  }
  return answer;
}
