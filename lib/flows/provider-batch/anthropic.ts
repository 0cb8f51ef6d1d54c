// Anthropic's Message Batches API: the requests go in the create call itself (no file), the batch is
// polled until its processing_status is "ended", and its results_url gives one JSONL line per
// request under its custom_id: succeeded (the message), errored, canceled or expired.
import { ANTHROPIC_VERSION } from "../anthropic";
import { requestJson } from "../http-client";
import { readProviderKey } from "../secrets";
import { FlowError } from "../types";
import { jsonLines, type BatchClient, type ProviderBatchStatus, type ProviderConnection, type ProviderOutcome, type ProviderResults } from "./types";

/** Anthropic's limit on the requests of one batch */
export const ANTHROPIC_BATCH_MAX_REQUESTS = 100_000;
const MAX_RESULTS_BYTES = 512 * 1024 * 1024;

interface MessageBatch {
  id?: string;
  processing_status?: string;
  request_counts?: { processing?: number; succeeded?: number; errored?: number; canceled?: number; expired?: number };
  expires_at?: string | null;
  results_url?: string | null;
}

const url = (conn: ProviderConnection, path: string) => `${conn.baseUrl.replace(/\/+$/, "")}/${path}`;
function headers(conn: ProviderConnection): Record<string, string> {
  const h: Record<string, string> = { "anthropic-version": ANTHROPIC_VERSION };
  if (conn.apiKeyEnv) h["x-api-key"] = readProviderKey(conn.apiKeyEnv);
  return h;
}

function status(json: unknown): ProviderBatchStatus {
  const batch = (json ?? {}) as MessageBatch;
  if (typeof batch.id !== "string" || typeof batch.processing_status !== "string") {
    throw new FlowError("invalid_response", "the provider's message batch has no id or processing_status", { retryable: true });
  }
  const c = batch.request_counts ?? {};
  const failed = (c.errored ?? 0) + (c.canceled ?? 0) + (c.expired ?? 0);
  const expiresAt = batch.expires_at ? new Date(batch.expires_at) : null;
  return {
    id: batch.id,
    status: batch.processing_status,
    ended: batch.processing_status === "ended",
    counts: { total: (c.processing ?? 0) + (c.succeeded ?? 0) + failed, succeeded: c.succeeded ?? 0, failed },
    expiresAt: expiresAt && !Number.isNaN(expiresAt.getTime()) ? expiresAt : null,
    raw: json,
  };
}

interface ResultLine {
  custom_id?: unknown;
  result?: { type?: string; message?: { id?: string }; error?: { type?: string; error?: { type?: string; message?: string } } };
}

function outcome(value: unknown): ProviderOutcome | string {
  const line = (value ?? {}) as ResultLine;
  if (typeof line.custom_id !== "string") return "no custom_id";
  const customId = line.custom_id;
  const result = line.result;
  switch (result?.type) {
    case "succeeded":
      if (!result.message || typeof result.message !== "object") return "a succeeded result without its message";
      return { customId, ok: true, response: { status_code: 200, request_id: result.message.id ?? "", body: result.message } };
    case "errored": {
      const error = result.error?.error ?? {};
      const type = error.type ?? "provider_error";
      const retryable = type === "overloaded_error" || type === "api_error" || type === "rate_limit_error";
      return { customId, ok: false, code: type, message: error.message || type, retryable, response: { status_code: 400, request_id: "", body: result.error ?? null } };
    }
    case "canceled":
      return { customId, ok: false, code: "provider_batch_cancelled", message: "the provider batch was cancelled before this request ran", retryable: true };
    case "expired":
      return { customId, ok: false, code: "provider_batch_expired", message: "the provider batch expired before this request ran", retryable: true };
    default:
      return `unknown result type ${JSON.stringify(result?.type ?? null)}`;
  }
}

export const anthropicBatches: BatchClient = {
  maxRequests: ANTHROPIC_BATCH_MAX_REQUESTS,

  async submit(conn, requests, { beforeCreate, createSignal }) {
    await beforeCreate?.();
    const res = await requestJson({
      url: url(conn, "messages/batches"),
      headers: headers(conn),
      body: { requests: requests.map((r) => ({ custom_id: r.customId, params: r.body })) },
      timeoutMs: conn.timeoutMs,
      signal: createSignal ?? conn.signal,
    });
    return status(res.json);
  },

  async get(conn, id) {
    const res = await requestJson({ url: url(conn, `messages/batches/${encodeURIComponent(id)}`), method: "GET", headers: headers(conn), timeoutMs: conn.timeoutMs, signal: conn.signal });
    return status(res.json);
  },

  async results(conn, batch) {
    const resultsUrl = (batch.raw as MessageBatch).results_url;
    const results: ProviderResults = { outcomes: new Map(), malformed: [] };
    if (!resultsUrl) return results;
    // the results live on the provider's own host; a relative URL is read against the API root
    const root = new URL(`${conn.baseUrl.replace(/\/+$/, "")}/`);
    const target = new URL(resultsUrl, root);
    // the key goes with the read: never to another origin than the one it was configured for
    if (target.origin !== root.origin) {
      throw new FlowError("invalid_response", `the provider's results_url is on ${target.origin}, not on ${root.origin}: not read`, { retryable: false });
    }
    const res = await requestJson({ url: target.toString(), method: "GET", headers: headers(conn), timeoutMs: conn.timeoutMs, signal: conn.signal, responseType: "text", maxResponseBytes: MAX_RESULTS_BYTES });
    for (const { line, value, reason } of jsonLines(res.text ?? "")) {
      const read = reason ?? outcome(value);
      if (typeof read === "string") results.malformed.push({ file: "results", line, reason: read });
      else if (!results.outcomes.has(read.customId)) results.outcomes.set(read.customId, read);
    }
    return results;
  },

  async cancel(conn, id) {
    const res = await requestJson({ url: url(conn, `messages/batches/${encodeURIComponent(id)}/cancel`), headers: headers(conn), body: {}, timeoutMs: conn.timeoutMs, signal: conn.signal });
    return status(res.json);
  },
};
