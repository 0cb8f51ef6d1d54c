// The one route wrapper: authorizes, reads the body under a size cap, parses JSON, validates params,
// query and body with zod, and renders every failure as the one error body. What it enforces comes
// from the route's entry in the registry (./routes), looked up by the key the route file names
// ("GET /api/batches/{id}"): a route file states no scope or schema of its own, and calls lib/.
import "server-only";
import { NextResponse, type NextRequest } from "next/server";
import type { z } from "zod";
import { getConfig } from "@/lib/config";
import { findUnstorable, jsonNestedDeeperThan, MAX_JSON_DEPTH } from "@/lib/db/storable";
import { AppError } from "@/lib/errors";
import { authorize, type Principal } from "./auth";
import { pacedBody } from "./client-body";
import { renderError, validationError } from "./errors";
import { routeEntry, type RouteEntry, type RouteEntryOf, type RouteKey } from "./routes";

type Schema = z.ZodType;
type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteOptions {
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

type SchemaAt<E, F extends "params" | "query"> = E extends { [k in F]: infer S extends Schema } ? S : undefined;
type BodySchemaOf<E> = E extends { body: { schema: infer S extends Schema } } ? S : undefined;
/** What a route's handler gets: its params, query and body typed by the schemas its registry entry names. */
export type RouteInputOf<K extends RouteKey> = RouteInput<SchemaAt<RouteEntryOf<K>, "params">, SchemaAt<RouteEntryOf<K>, "query">, BodySchemaOf<RouteEntryOf<K>>>;

/** A route handler as Next.js calls it, tagged with the registry key whose entry it enforces. */
export type RouteHandler = ((request: NextRequest, ctx?: RouteContext) => Promise<Response>) & { readonly routeKey: RouteKey };

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

/**
 * The handler of the route `key` ("GET /api/batches/{id}"): authorizes by the entry's scope, validates
 * path params, query and JSON body with the entry's schemas (a body declared as content, an upload,
 * is left for the handler to read), then calls `handler`.
 */
export function route<K extends RouteKey>(key: K, handler: (input: RouteInputOf<K>) => Promise<unknown> | unknown, options: RouteOptions = {}): RouteHandler {
  const entry: RouteEntry = routeEntry(key);
  const bodySchema = entry.body && "schema" in entry.body ? entry.body.schema : undefined;
  const handle = async function handle(request: NextRequest, ctx?: RouteContext): Promise<Response> {
    try {
      const principal = await authorize(request, entry.scope);
      const rawParams = (await ctx?.params) ?? {};
      checkStorable(rawParams, "path");
      const rawQuery = searchParamsObject(request.nextUrl.searchParams);
      checkStorable(rawQuery, "query");
      const params = entry.params ? parseWith(entry.params, rawParams, "path") : undefined;
      const query = entry.query ? parseWith(entry.query, rawQuery, "query") : undefined;
      let rawBody: unknown = undefined;
      let body: unknown = undefined;
      if (bodySchema) {
        rawBody = await readJsonBody(request, entry.maxBodyBytes ?? getConfig().BATCHBOARD_MAX_BODY_BYTES);
        body = parseWith(bodySchema, rawBody ?? {}, "body");
      }
      const out = await handler({ params, query, body, request, principal, rawBody } as RouteInputOf<K>);
      return out instanceof Response ? out : json(out);
    } catch (err) {
      return (options.renderError ?? renderError)(err, `${request.method} ${request.nextUrl.pathname}`);
    }
  };
  return Object.assign(handle, { routeKey: key as RouteKey });
}
