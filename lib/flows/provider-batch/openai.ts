// OpenAI's Batch API (and any server that implements it): the requests as one JSONL file uploaded
// with purpose "batch", one batch over it, polled by id; the output file holds the answered
// requests, the error file the ones that failed, expired or were cancelled, each under its custom_id.
import { randomBytes } from "node:crypto";
import { requestJson } from "../http-client";
import type { KeptResponse } from "../openai";
import { readProviderKey } from "../secrets";
import { FlowError } from "../types";
import { isRetryableStatus, jsonLines, type BatchClient, type ProviderBatchStatus, type ProviderConnection, type ProviderOutcome, type ProviderResults } from "./types";

/** OpenAI's limit on the requests of one batch */
export const OPENAI_BATCH_MAX_REQUESTS = 50_000;
/** chunk sizes of a flow's provider_batch mode: one provider batch per call, at most OpenAI's limit */
export const PROVIDER_BATCH_CHUNK = { defaultSize: 1000, maxSize: OPENAI_BATCH_MAX_REQUESTS, minSize: 2 } as const;
/** an output file may be large: read up to this (a request's answer rarely passes 10 KiB) */
const MAX_RESULTS_BYTES = 512 * 1024 * 1024;
const ENDED = new Set(["completed", "failed", "expired", "cancelled"]);

/** pages of 100 batches read looking for a submission whose answer was lost */
const FIND_MAX_PAGES = 10;
/** batches created this long before the submission was recorded are still looked at (clock skew) */
const FIND_SKEW_MS = 10 * 60_000;

interface OpenAIBatch {
  id?: string;
  status?: string;
  created_at?: number;
  metadata?: Record<string, unknown> | null;
  output_file_id?: string | null;
  error_file_id?: string | null;
  expires_at?: number | null;
  request_counts?: { total?: number; completed?: number; failed?: number };
  errors?: { data?: { code?: string; message?: string; line?: number | null }[] } | null;
}

const url = (conn: ProviderConnection, path: string) => `${conn.baseUrl.replace(/\/+$/, "")}/${path}`;
const auth = (conn: ProviderConnection): Record<string, string> => (conn.apiKeyEnv ? { authorization: `Bearer ${readProviderKey(conn.apiKeyEnv)}` } : {});

function status(json: unknown): ProviderBatchStatus {
  const batch = (json ?? {}) as OpenAIBatch;
  if (typeof batch.id !== "string" || typeof batch.status !== "string") {
    throw new FlowError("invalid_response", "the provider's batch has no id or status", { retryable: true });
  }
  const counts = batch.request_counts ?? {};
  const failed = counts.failed ?? 0;
  const errors = batch.errors?.data ?? [];
  return {
    id: batch.id,
    status: batch.status,
    ended: ENDED.has(batch.status),
    counts: { total: counts.total ?? 0, succeeded: counts.completed ?? 0, failed },
    expiresAt: typeof batch.expires_at === "number" ? new Date(batch.expires_at * 1000) : null,
    failure:
      batch.status === "failed"
        ? errors.map((e) => `${e.code ?? "error"}${e.line ? ` (line ${e.line})` : ""}: ${e.message ?? ""}`).join("; ") || "the provider failed the batch"
        : undefined,
    raw: json,
  };
}

/** A multipart/form-data body of text fields and one text file. */
function multipart(fields: Record<string, string>, file: { name: string; type: string; text: string }): { contentType: string; text: string } {
  const boundary = `batchboard-${randomBytes(12).toString("hex")}`;
  const parts = Object.entries(fields).map(([name, value]) => `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  parts.push(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${file.name}"\r\ncontent-type: ${file.type}\r\n\r\n${file.text}\r\n`);
  return { contentType: `multipart/form-data; boundary=${boundary}`, text: `${parts.join("")}--${boundary}--\r\n` };
}

async function fileText(conn: ProviderConnection, fileId: string): Promise<string> {
  const res = await requestJson({
    url: url(conn, `files/${encodeURIComponent(fileId)}/content`),
    method: "GET",
    headers: auth(conn),
    timeoutMs: conn.timeoutMs,
    signal: conn.signal,
    responseType: "text",
    maxResponseBytes: MAX_RESULTS_BYTES,
  });
  return res.text ?? "";
}

interface OutputLine {
  custom_id?: unknown;
  response?: { status_code?: number; request_id?: string; body?: unknown } | null;
  error?: { code?: string; message?: string } | null;
}

/** One output or error line as an outcome; a string says why it is not one. */
function outcome(value: unknown): ProviderOutcome | string {
  const line = (value ?? {}) as OutputLine;
  if (typeof line.custom_id !== "string") return "no custom_id";
  const customId = line.custom_id;
  if (line.error) {
    const code = line.error.code === "batch_expired" ? "provider_batch_expired" : line.error.code === "batch_cancelled" ? "provider_batch_cancelled" : line.error.code || "provider_error";
    const retryable = code === "provider_batch_expired" || code === "provider_batch_cancelled" || code === "rate_limit_exceeded" || code === "server_error";
    return { customId, ok: false, code, message: line.error.message || code, retryable };
  }
  const r = line.response;
  if (!r || typeof r.status_code !== "number") return "neither a response with a status_code nor an error";
  const response: KeptResponse = { status_code: r.status_code, request_id: r.request_id ?? "", body: r.body ?? null };
  if (r.status_code >= 200 && r.status_code < 300) return { customId, ok: true, response };
  const message = (r.body as { error?: { message?: string } } | null)?.error?.message;
  return { customId, ok: false, code: `http_${r.status_code}`, message: `the provider answered ${r.status_code}${message ? `: ${message}` : ""}`, retryable: isRetryableStatus(r.status_code), response };
}

export const openaiBatches: BatchClient = {
  maxRequests: OPENAI_BATCH_MAX_REQUESTS,

  async submit(conn, requests, { endpoint, metadata, beforeCreate, createSignal }) {
    const path = endpoint.replace(/^\/v1(?=\/)/, "");
    const jsonl = requests.map((r) => JSON.stringify({ custom_id: r.customId, method: "POST", url: `/v1${path}`, body: r.body })).join("\n") + "\n";
    const upload = await requestJson({
      url: url(conn, "files"),
      headers: auth(conn),
      rawBody: multipart({ purpose: "batch" }, { name: "batchboard-requests.jsonl", type: "application/jsonl", text: jsonl }),
      timeoutMs: conn.timeoutMs,
      signal: conn.signal,
    });
    const fileId = (upload.json as { id?: unknown } | null)?.id;
    if (typeof fileId !== "string") throw new FlowError("invalid_response", "the provider's file upload answered no file id", { retryable: true });
    await beforeCreate?.();
    const created = await requestJson({
      url: url(conn, "batches"),
      headers: auth(conn),
      body: { input_file_id: fileId, endpoint: `/v1${path}`, completion_window: "24h", ...(metadata ? { metadata } : {}) },
      timeoutMs: conn.timeoutMs,
      signal: createSignal ?? conn.signal,
    });
    return status(created.json);
  },

  async get(conn, id) {
    const res = await requestJson({ url: url(conn, `batches/${encodeURIComponent(id)}`), method: "GET", headers: auth(conn), timeoutMs: conn.timeoutMs, signal: conn.signal });
    return status(res.json);
  },

  async results(conn, batch) {
    const raw = batch.raw as OpenAIBatch;
    const results: ProviderResults = { outcomes: new Map(), malformed: [] };
    for (const [file, fileId] of [["output", raw.output_file_id], ["error", raw.error_file_id]] as const) {
      if (!fileId) continue;
      for (const { line, value, reason } of jsonLines(await fileText(conn, fileId))) {
        const read = reason ?? outcome(value);
        if (typeof read === "string") results.malformed.push({ file, line, reason: read });
        // a request answered in both files is taken from the output file
        else if (!results.outcomes.has(read.customId)) results.outcomes.set(read.customId, read);
      }
    }
    return results;
  },

  async cancel(conn, id) {
    const res = await requestJson({ url: url(conn, `batches/${encodeURIComponent(id)}/cancel`), headers: auth(conn), body: {}, timeoutMs: conn.timeoutMs, signal: conn.signal });
    return status(res.json);
  },

  // GET /batches lists newest first, 100 a page, `after` the last id of the page before
  async findByMetadata(conn, metadata, since) {
    let after: string | undefined;
    for (let page = 0; page < FIND_MAX_PAGES; page++) {
      const query = `batches?limit=100${after ? `&after=${encodeURIComponent(after)}` : ""}`;
      const res = await requestJson({ url: url(conn, query), method: "GET", headers: auth(conn), timeoutMs: conn.timeoutMs, signal: conn.signal });
      const list = (res.json ?? {}) as { data?: unknown; has_more?: unknown; last_id?: unknown };
      const data = (Array.isArray(list.data) ? list.data : []) as OpenAIBatch[];
      const match = data.find((b) => Object.entries(metadata).every(([k, v]) => b?.metadata?.[k] === v));
      if (match) return status(match);
      const oldest = data.at(-1);
      const pastSince = typeof oldest?.created_at === "number" && oldest.created_at * 1000 < since.getTime() - FIND_SKEW_MS;
      if (list.has_more !== true || data.length === 0 || pastSince) return null;
      after = typeof oldest?.id === "string" ? oldest.id : typeof list.last_id === "string" ? list.last_id : undefined;
      if (!after) return null;
    }
    return null;
  },
};
