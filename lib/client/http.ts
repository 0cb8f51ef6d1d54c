// The one HTTP client core of the API's callers, the dashboard (lib/client/api.ts, same origin) and
// the CLI (lib/cli/client.ts, a base URL and a token): requests, and the API's error body turned into
// one ApiError. Relative imports only: the CLI loads it under tsx from any directory.
import type { ErrorDetail } from "./types";

export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }

  /** the API could not be reached at all */
  get unreachable(): boolean {
    return this.status === 0;
  }
}

/** A non-2xx answer as an ApiError: the API's `{error: {code, message, details}}`, else the status and the body's start. */
export function errorFromBody(status: number, statusText: string, text: string): ApiError {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null;
    const e = body?.error;
    if (e && typeof e.code === "string" && typeof e.message === "string") {
      return new ApiError(status, e.code, e.message, Array.isArray(e.details) ? (e.details as ErrorDetail[]) : []);
    }
  } catch {
    // not JSON: a proxy's page, a crash before the API answered
  }
  return new ApiError(status, `http_${status}`, text.trim().slice(0, 300) || `${status} ${statusText}`.trim());
}

/**
 * fetch, with the API's errors as ApiError: a network failure is status 0 with the message
 * `unreachable` makes of its cause, an abort stays an AbortError, a non-2xx answer is errorFromBody's.
 */
export async function send(url: string, init: RequestInit, unreachable: (cause: string) => string): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(0, "unreachable", unreachable((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message));
  }
  if (!res.ok) throw errorFromBody(res.status, res.statusText, await res.text());
  return res;
}
