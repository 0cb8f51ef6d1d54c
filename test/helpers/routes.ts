// Loads every app/api/**/route.ts and calls its handlers in-process, as Next.js would, so tests can
// enumerate all routes (scope table, fuzzing) against a real database without a build.
import { readdirSync } from "node:fs";
import path from "node:path";
import { NextRequest } from "next/server";

export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
export type Method = (typeof HTTP_METHODS)[number];

type Handler = (request: NextRequest, ctx: { params: Promise<Record<string, string | string[]>> }) => Promise<Response>;

export interface ApiRoute {
  /** e.g. /api/batches/[id]/jobs/[recordId] */
  pattern: string;
  file: string;
  /** dynamic segment names in order, e.g. ["id", "recordId"]; catch-alls end with "..." */
  params: string[];
  handlers: Partial<Record<Method, Handler>>;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(path.join(dir, e.name)) : e.name === "route.ts" ? [path.join(dir, e.name)] : [],
  );
}

export function routeFiles(root = path.resolve("app/api")): string[] {
  return walk(root).sort();
}

export function patternOf(file: string): string {
  const rel = path.relative(path.resolve("app"), path.dirname(file)).split(path.sep).join("/");
  return `/${rel}`;
}

/** Every route under `root` (default app/api; app/v1 for the OpenAI-compatible API). */
export async function loadApiRoutes(root?: string): Promise<ApiRoute[]> {
  const routes: ApiRoute[] = [];
  for (const file of routeFiles(root)) {
    const mod = (await import(/* @vite-ignore */ file)) as Record<string, unknown>;
    const handlers: ApiRoute["handlers"] = {};
    for (const m of HTTP_METHODS) if (typeof mod[m] === "function") handlers[m] = mod[m] as Handler;
    const pattern = patternOf(file);
    const params = [...pattern.matchAll(/\[(\.\.\.)?([^\]]+)\]/g)].map((x) => (x[1] ? `${x[2]}...` : x[2]!));
    routes.push({ pattern, file, params, handlers });
  }
  return routes;
}

/** Every handler the routes export, one per method, named "METHOD /pattern". */
export function routeHandlers(routes: ApiRoute[]): { route: ApiRoute; method: Method; name: string }[] {
  return routes.flatMap((route) =>
    HTTP_METHODS.filter((m) => route.handlers[m]).map((method) => ({ route, method, name: `${method} ${route.pattern}` })),
  );
}

export interface CallOptions {
  params?: Record<string, string>;
  query?: string;
  headers?: Record<string, string>;
  body?: string | Blob | ArrayBuffer;
  signal?: AbortSignal;
}

/** Calls one handler the way Next.js would: a NextRequest, and params as a promise. */
export async function callRoute(route: ApiRoute, method: Method, options: CallOptions = {}): Promise<Response> {
  const handler = route.handlers[method];
  if (!handler) throw new Error(`${route.pattern} has no ${method}`);
  const params: Record<string, string | string[]> = {};
  let urlPath = route.pattern;
  for (const name of route.params) {
    const key = name.replace(/\.\.\.$/, "");
    const value = options.params?.[key] ?? "x";
    params[key] = name.endsWith("...") ? value.split("/") : value;
    urlPath = urlPath.replace(/\[(\.\.\.)?[^\]]+\]/, encodeURIComponent(value));
  }
  const url = `http://localhost:3000${urlPath}${options.query ? `?${options.query}` : ""}`;
  const request = new NextRequest(url, {
    method,
    headers: options.headers,
    body: method === "GET" || method === "DELETE" ? undefined : options.body,
    signal: options.signal,
  });
  return handler(request, { params: Promise.resolve(params) });
}
