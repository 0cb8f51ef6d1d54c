// Renders every failure as the one error body { "error": { "code", "message", "details" } } with the
// status from ERROR_STATUS. Unknown errors become a 500 `internal` whose stack stays in the server log.
import "server-only";
import { NextResponse } from "next/server";
import { ZodError } from "zod";
import { unavailableFrom } from "@/lib/db/errors";
import { AppError, ERROR_STATUS, validationError, zodDetails, type ErrorCode, type ErrorDetail } from "@/lib/errors";

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details: ErrorDetail[] };
}

export function errorResponse(code: ErrorCode, message: string, details: ErrorDetail[] = [], headers: Record<string, string> = {}) {
  const body: ErrorBody = { error: { code, message, details } };
  return NextResponse.json(body, { status: ERROR_STATUS[code], headers });
}

// zod failures become the same AppError wherever they are parsed (lib/errors.ts)
export { validationError, zodDetails };

export function renderError(err: unknown, context = ""): Response {
  if (err instanceof AppError) return errorResponse(err.code, err.message, err.details, err.headers);
  if (err instanceof ZodError) {
    const e = validationError(err, "input");
    return errorResponse(e.code, e.message, e.details);
  }
  const unavailable = unavailableFrom(err);
  if (unavailable) {
    console.error(`[api] ${context}: ${unavailable.message} (${(err as Error).message})`);
    return errorResponse(unavailable.code, unavailable.message, unavailable.details, unavailable.headers);
  }
  console.error(`[api] ${context} failed:`, err);
  return errorResponse("internal", "internal error: the server log has the details");
}
