// The /v1 route wrapper: the one route() (auth, scopes, rate limit, body caps, zod), with errors that
// carry both shapes in one body, ours and OpenAI's: { error: { code, message, details, type, param } },
// at the statuses OpenAI answers (invalid input is a 400). Every answer carries an x-request-id, which
// the OpenAI SDKs read.
import "server-only";
import { randomBytes } from "node:crypto";
import { NextResponse } from "next/server";
import { ZodError } from "zod";
import { validationError } from "@/lib/api/errors";
import { route, type RouteHandler, type RouteInputOf } from "@/lib/api/handler";
import type { RouteKey } from "@/lib/api/routes";
import { AppError, ERROR_STATUS, type ErrorCode, type ErrorDetail } from "@/lib/errors";

/** OpenAI answers 400 to every invalid request, where the rest of our API says 422. */
const STATUS: Partial<Record<ErrorCode, number>> = { validation_failed: 400, limit_exceeded: 400 };

export interface V1ErrorBody {
  error: { code: ErrorCode; message: string; details: ErrorDetail[]; type: string; param: string | null };
}

function typeOf(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

export const newRequestId = () => `req_${randomBytes(12).toString("hex")}`;

export function v1ErrorResponse(code: ErrorCode, message: string, details: ErrorDetail[] = [], headers: Record<string, string> = {}): Response {
  const status = STATUS[code] ?? ERROR_STATUS[code];
  const param = details.find((d) => d.path)?.path ?? null;
  const body: V1ErrorBody = { error: { code, message, details, type: typeOf(status), param } };
  // the SDKs retry 409s and 5xx by default: a conflict will not go away by itself
  const retry: Record<string, string> = status === 409 ? { "x-should-retry": "false" } : {};
  return NextResponse.json(body, { status, headers: { "x-request-id": newRequestId(), ...retry, ...headers } });
}

export function renderV1Error(err: unknown, context = ""): Response {
  if (err instanceof AppError) return v1ErrorResponse(err.code, err.message, err.details, err.headers);
  if (err instanceof ZodError) {
    const e = validationError(err, "input");
    return v1ErrorResponse(e.code, e.message, e.details);
  }
  console.error(`[v1] ${context} failed:`, err);
  return v1ErrorResponse("internal", "internal error: the server log has the details");
}

/** An AppError naming the field OpenAI would name in `param`. */
export function invalid(param: string, message: string, code: ErrorCode = "validation_failed"): AppError {
  return new AppError(code, message, [{ path: param, message }]);
}

/** route() for /v1: the registry entry's checks, OpenAI's error statuses and fields, an x-request-id on every answer. */
export function v1Route<K extends RouteKey & `${string} /v1/${string}`>(key: K, handler: (input: RouteInputOf<K>) => Promise<unknown> | unknown): RouteHandler {
  const inner = route(key, handler, { renderError: renderV1Error });
  const handle = async (...args: Parameters<typeof inner>): Promise<Response> => {
    const res = await inner(...args);
    if (!res.headers.has("x-request-id")) res.headers.set("x-request-id", newRequestId());
    return res;
  };
  return Object.assign(handle, { routeKey: inner.routeKey });
}
