// The one error type that crosses layers. lib/engine, lib/flows and lib/datasets throw AppError
// with a code; lib/api maps each code to its HTTP status and renders the one error body
// { "error": { "code", "message", "details" } }.
import type { ZodError } from "zod";

export const ERROR_STATUS = {
  invalid_json: 400,
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  request_timeout: 408,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  limit_exceeded: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorDetail {
  /** field path, e.g. "parameters.url" or "records.3.id" */
  path?: string;
  message: string;
  [key: string]: unknown;
}

export class AppError extends Error {
  override name = "AppError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const notFound = (what: string, id: string) => new AppError("not_found", `${what} ${JSON.stringify(id)} not found`);

/** zod issues -> details with dotted field paths ("parameters.url", "records.3"). */
export function zodDetails(error: ZodError, prefix: (string | number)[] = []): ErrorDetail[] {
  return error.issues.flatMap((issue) => {
    const base = [...prefix, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))];
    // an unknown key is reported at the key itself, so a typo ("concurency") points at the typo
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ path: [...base, key].join("."), message: "unknown field" }));
    }
    return [{ ...(base.length ? { path: base.join(".") } : {}), message: issue.message }];
  });
}

/** A failed zod parse as the one validation error (a 422 on /api), each field named in its details. */
export function validationError(error: ZodError, what: string, prefix: (string | number)[] = []): AppError {
  const details = zodDetails(error, prefix);
  const summary = details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join("; ");
  return new AppError("validation_failed", `invalid ${what}: ${summary}`, details);
}
