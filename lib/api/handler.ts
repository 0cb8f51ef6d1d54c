// The one route wrapper: authorizes, reads the body under a size cap, parses JSON, validates params,
// query and body with zod, and renders every failure as the one error body. Route files declare
// their schemas and call lib/; nothing else.
import "server-only";
import { NextResponse, type NextRequest } from "next/server";
import type { z } from "zod";
import { getConfig } from "@/lib/config";
import { findUnstorable, jsonNestedDeeperThan, MAX_JSON_DEPTH } from "@/lib/db/storable";
import { AppError } from "@/lib/errors";
import { authorize, type Principal, type RouteScope } from "./auth";
import { pacedBody } from "./client-body";
import { renderError, validationError } from "./errors";

type Schema = z.ZodType;
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteOptions<P, Q, B> {
  scope: RouteScope;
  params?: P;
  query?: Q;
  body?: B;
  /** overrides BATCHBOARD_MAX_BODY_BYTES for this route's JSON body */
  maxBodyBytes?: number;
  /** renders a failure (default: the one error body); /v1 routes add OpenAI's fields */
  renderError?: (err: unknown, context: string) => Response;
}

export interface RouteInput<P, Q, B> {
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
  request: NextRequest;
  /** who is calling (api key, session, or "local" when BATCHBOARD_AUTH=off) */
  principal: Principal;
  /** the raw JSON body (for idempotency hashing); undefined when the route has no body schema */
  rawBody: unknown;
}

export type RouteContext = { params: Promise<Record<string, string | string[] | undefined>> };

/** A JSON response with a status (handlers may also return plain data: 200 JSON). */
export function json(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return NextResponse.json(data, { status, headers });
}

/** URLSearchParams -> object; a repeated key becomes an array. */
export function searchParamsObject(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of params) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

export function tooLarge(limit: number, what = "request body"): AppError {
  const message = `the ${what} is larger than the limit of ${limit} bytes (BATCHBOARD_MAX_BODY_BYTES)`;
  return new AppError("payload_too_large", message, [{ message }]);
}

/** Reads the whole body, refusing (413) as soon as it passes `limit`, before buffering more. */
export async function readBodyCapped(request: Request, limit: number): Promise<Buffer> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  if (!request.body) return Buffer.alloc(0);
  const reader = pacedBody(request.body).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

export function isJsonContentType(contentType: string | null): boolean {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  return type === "application/json" || /^application\/[\w.+-]*\+json$/.test(type);
}

/**
 * The JSON body: undefined when empty; 415 when not JSON; 400 when malformed; 422 when it nests deeper
 * than MAX_JSON_DEPTH or holds text PostgreSQL cannot store.
 */
export async function readJsonBody(request: Request, limit: number): Promise<unknown> {
  const bytes = await readBodyCapped(request, limit);
  if (bytes.byteLength === 0) return undefined;
  if (!isJsonContentType(request.headers.get("content-type"))) {
    throw new AppError("unsupported_media_type", `send the body as application/json (got ${request.headers.get("content-type") ?? "no Content-Type"})`);
  }
  const text = bytes.toString("utf8");
  // refused before parsing: stored, it would overflow a stack deep inside a write (a 500)
  if (jsonNestedDeeperThan(text)) {
    const message = `the body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`;
    throw new AppError("limit_exceeded", message, [{ message }]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AppError("invalid_json", `the body is not valid JSON: ${(err as Error).message}`);
  }
  // valid JSON that PostgreSQL cannot store (a \u0000 or a lone \ud83d escape) is refused here, with
  // the field named, for every route: stored as given it would fail the write deep inside
  const bad = findUnstorable(value, text);
  if (bad) {
    const detail = { ...(bad.path ? { path: bad.path } : {}), message: bad.message };
    throw new AppError("validation_failed", `invalid body: ${bad.path ? `${bad.path}: ` : ""}${bad.message}`, [detail]);
  }
  return value;
}

/**
 * Path segments and query values PostgreSQL cannot store (a %00 in the URL) are refused like such
 * text in a body: every route would otherwise pass them to a query that fails with a 500.
 */
function checkStorable(values: Record<string, unknown>, what: string): void {
  const bad = findUnstorable(values);
  if (!bad) return;
  throw new AppError("validation_failed", `invalid ${what}: ${bad.path}: ${bad.message}`, [{ path: bad.path, message: bad.message }]);
}

function parseWith<S extends Schema>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error, what);
  return parsed.data;
}

export function route<P extends Schema | undefined = undefined, Q extends Schema | undefined = undefined, B extends Schema | undefined = undefined>(
  options: RouteOptions<P, Q, B>,
  handler: (input: RouteInput<P, Q, B>) => Promise<unknown> | unknown,
) {
  return async function handle(request: NextRequest, ctx: RouteContext): Promise<Response> {
    try {
      const principal = await authorize(request, options.scope);
      const rawParams = (await ctx?.params) ?? {};
      checkStorable(rawParams, "path");
      const rawQuery = searchParamsObject(request.nextUrl.searchParams);
      checkStorable(rawQuery, "query");
      const params = (options.params ? parseWith(options.params, rawParams, "path") : undefined) as Out<P>;
      const query = (options.query ? parseWith(options.query, rawQuery, "query") : undefined) as Out<Q>;
      let rawBody: unknown = undefined;
      let body = undefined as Out<B>;
      if (options.body) {
        rawBody = await readJsonBody(request, options.maxBodyBytes ?? getConfig().BATCHBOARD_MAX_BODY_BYTES);
        body = parseWith(options.body, rawBody ?? {}, "body") as Out<B>;
      }
      const out = await handler({ params, query, body, request, principal, rawBody });
      return out instanceof Response ? out : json(out);
    } catch (err) {
      return (options.renderError ?? renderError)(err, `${request.method} ${request.nextUrl.pathname}`);
    }
  };
}
