// Calls the app's route handlers in-process (test/helpers/routes) by pattern with any headers or raw
// body, returning status, headers and the parsed body (test/security/api.ts is the plainer client).
import { callRoute, loadApiRoutes, type ApiRoute, type CallOptions, type Method } from "../helpers/routes";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface ApiResult {
  status: number;
  headers: Headers;
  json: Json;
}

let routes: Promise<ApiRoute[]> | undefined;

export async function call(
  method: Method,
  pattern: string,
  options: Omit<CallOptions, "body"> & { body?: unknown; rawBody?: string } = {},
): Promise<ApiResult> {
  routes ??= loadApiRoutes();
  const route = (await routes).find((r) => r.pattern === pattern);
  if (!route) throw new Error(`no route ${pattern}`);
  const { body, rawBody, headers, ...rest } = options;
  const res = await callRoute(route, method, {
    ...rest,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  let json: Json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json };
}

/** The one error body every failure must have. */
export function isErrorBody(json: Json): boolean {
  const e = json?.error;
  return !!e && typeof e.code === "string" && typeof e.message === "string" && Array.isArray(e.details);
}

export const cursorOf = (jsonText: string) => Buffer.from(jsonText).toString("base64url");
