// The one HTTP call path for the http, llm and embed flows: the guarded outbound client (URL rules,
// connections pinned to checked addresses), per-call timeout tied to the job's abort signal, status
// mapping (429/5xx retryable honouring Retry-After, other 4xx final) and JSON decoding with a clear
// error when the body is not JSON.
import { z } from "zod";
import { networkErrorText, OutboundRefused, OutboundResponseTooLarge, outboundRequest, type OutboundResponse } from "./outbound-client";
import { readFlowSecret, redactSecrets, secretEnvNameSchema } from "./secrets";
import { FlowError } from "./types";

// What an HTTP header value may hold: no CR, LF, NUL or other control character (a line break would
// split the header, and the error it causes would quote the value), nothing beyond U+00FF.
const HEADER_VALUE_INVALID = /[^\t\x20-\x7e\x80-\xff]/;
const HEADER_VALUE_RULE = "must not contain control characters (CR, LF, NUL, ...) or characters beyond U+00FF";
const headerText = z.string().refine((v) => !HEADER_VALUE_INVALID.test(v), HEADER_VALUE_RULE);

/** A header value given directly, or read from an environment variable when the job runs (never stored). */
export const headerValueSchema = z.union([
  headerText,
  z
    .object({
      env: secretEnvNameSchema,
      prefix: headerText.default("").describe('prepended to the value, e.g. "Bearer "'),
    })
    .strict(),
]);
export type HeaderValue = z.output<typeof headerValueSchema>;

export function resolveHeaders(headers: Record<string, HeaderValue>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, v]) => {
      if (typeof v === "string") return [name, v];
      const value = `${v.prefix}${readFlowSecret(v.env)}`;
      // checked at creation for the prefix; the variable's value (or a batch stored earlier) may still break it
      if (HEADER_VALUE_INVALID.test(value)) {
        throw new FlowError("header_invalid", `header ${name} (its prefix and the value of ${v.env}) ${HEADER_VALUE_RULE}`, { retryable: false });
      }
      return [name, value];
    }),
  );
}

// Header names whose literal value would be a credential stored with the batch and shown to every
// key that can read it: whole words of the name, and fragments anywhere in it.
const SECRET_HEADER_WORDS = new Set(["key", "pwd", "bearer"]);
const SECRET_HEADER_FRAGMENTS = ["auth", "secret", "token", "password", "passwd", "credential", "cookie", "session", "apikey", "signature"];
const NOT_SECRET_HEADERS = new Set(["idempotency-key"]);

/** Whether a header of this name carries a credential (Authorization, X-API-Key, Cookie, X-Client-Secret, …). */
export function isSecretHeaderName(name: string): boolean {
  const lower = name.toLowerCase();
  if (NOT_SECRET_HEADERS.has(lower)) return false;
  return lower.split(/[^a-z0-9]+/).some((w) => SECRET_HEADER_WORDS.has(w)) || SECRET_HEADER_FRAGMENTS.some((f) => lower.includes(f));
}

/** Request headers of a flow's parameters: credentials only by env reference, never as literal text. */
export const headersSchema = z
  .record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be an HTTP header name"), headerValueSchema)
  .default({})
  .superRefine((headers, ctx) => {
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value === "string" && isSecretHeaderName(name)) {
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: `a literal ${name} header would be stored with the batch and shown to everyone who can read it: put the value in an environment variable listed in BATCHBOARD_FLOW_SECRETS and send {"env": "VAR_NAME", "prefix": "Bearer "}`,
        });
      }
    }
  })
  .describe(
    'header values, or {"env": "MY_TOKEN", "prefix": "Bearer "} to read a secret from the worker\'s environment (MY_TOKEN must be listed in BATCHBOARD_FLOW_SECRETS). Literal values of credential headers (Authorization, Cookie, names with auth, key, token, secret, password, session, signature) are refused: use the env form',
  );

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export interface JsonRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** sent as JSON when not undefined */
  body?: unknown;
  /** sent as it is with its content type instead of `body` (a multipart upload) */
  rawBody?: { contentType: string; text: string };
  /** "text": a 2xx body is returned as `text`, not decoded (a JSONL file's content) */
  responseType?: "json" | "text";
  /** a longer response body fails the call (default: the outbound client's 32 MiB) */
  maxResponseBytes?: number;
  timeoutMs: number;
  signal: AbortSignal;
  /**
   * "throw" (default): a 3xx-5xx answer is a FlowError (429 and 5xx retryable). "return": it is returned
   * like a success, for callers that keep the upstream's answer (the caller classifies it).
   */
  httpErrors?: "throw" | "return";
}

export interface JsonResponse {
  status: number;
  headers: Headers;
  /** the decoded JSON body; null for an empty body, or a non-JSON error body returned with httpErrors "return" */
  json: unknown;
  /** the body as text: when it is not JSON (httpErrors "return"), or asked for (responseType "text") */
  text?: string;
  /** the Retry-After header as milliseconds, when present */
  retryAfterMs?: number;
}

const SNIPPET = 300;
// an API may echo what it was sent (an Authorization header in an error body): redacted before cut
const snippet = (text: string) => {
  const clean = redactSecrets(text);
  return clean.length > SNIPPET ? `${clean.slice(0, SNIPPET)}…` : clean;
};

/** The host of a URL for messages ("the URL" when it cannot be parsed). */
function hostOf(raw: string): string {
  try {
    return new URL(raw).host;
  } catch {
    return "the URL";
  }
}

export async function requestJson(req: JsonRequest): Promise<JsonResponse> {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = AbortSignal.any([req.signal, timeout]);
  const headers: Record<string, string> = { accept: "application/json", ...req.headers };
  if (req.rawBody) headers["content-type"] = req.rawBody.contentType;
  else if (req.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
    headers["content-type"] = "application/json";
  }
  const method = req.method ?? "POST";
  const body = req.rawBody ? req.rawBody.text : req.body === undefined ? undefined : JSON.stringify(req.body);
  let res: OutboundResponse;
  try {
    res = await outboundRequest({ url: req.url, method, headers, body, signal, maxResponseBytes: req.maxResponseBytes });
  } catch (err) {
    // cancellation and shutdown win over our own timeout: the engine reads the signal's reason
    if (req.signal.aborted) throw req.signal.reason;
    if (err instanceof OutboundRefused) throw new FlowError("url_not_allowed", err.message, { retryable: err.retryable });
    if (timeout.aborted) {
      throw new FlowError("timeout", `no response from ${hostOf(req.url)} within ${req.timeoutMs} ms`, { retryable: true, cause: err });
    }
    if (err instanceof OutboundResponseTooLarge) throw new FlowError("response_too_large", `${hostOf(req.url)}: ${err.message}`, { retryable: false });
    throw new FlowError("network_error", `request to ${hostOf(req.url)} failed: ${redactSecrets(networkErrorText(err))}`, { retryable: true, cause: err });
  }

  const url = new URL(req.url);
  const where = `${method} ${url.origin}${url.pathname}`;
  const text = res.text;
  const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"));
  if (req.httpErrors === "return" && res.status >= 300) {
    try {
      return { status: res.status, headers: res.headers, json: text.trim() === "" ? null : JSON.parse(text), retryAfterMs };
    } catch {
      return { status: res.status, headers: res.headers, json: null, text: snippet(text), retryAfterMs };
    }
  }
  if (res.status === 429 || res.status >= 500) {
    throw new FlowError(`http_${res.status}`, `${where} answered ${res.status}: ${snippet(text)}`, {
      retryable: true,
      retryAfterMs,
    });
  }
  if (res.status >= 300) {
    throw new FlowError(`http_${res.status}`, `${where} answered ${res.status}: ${snippet(text)}`, { retryable: false });
  }
  if (req.responseType === "text") return { status: res.status, headers: res.headers, json: null, text };
  if (text.trim() === "") return { status: res.status, headers: res.headers, json: null };
  try {
    return { status: res.status, headers: res.headers, json: JSON.parse(text) };
  } catch {
    const type = res.headers.get("content-type") ?? "no content type";
    throw new FlowError("invalid_response", `${where} answered ${res.status} with a body that is not JSON (${type}): ${snippet(text)}`, {
      retryable: false,
    });
  }
}
