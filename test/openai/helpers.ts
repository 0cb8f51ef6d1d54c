// Calling the /v1 route handlers in-process (as Next.js would) against the test database.
import path from "node:path";
import { callRoute, loadApiRoutes, type ApiRoute, type CallOptions, type Method } from "../helpers/routes";

let routes: ApiRoute[] | undefined;

export async function v1(method: Method, pattern: string, options: CallOptions = {}): Promise<Response> {
  routes ??= await loadApiRoutes(path.resolve("app/v1"));
  const route = routes.find((r) => r.pattern === pattern);
  if (!route) throw new Error(`no route ${pattern}`);
  return callRoute(route, method, options);
}

export async function v1Json<T = Record<string, unknown>>(method: Method, pattern: string, options: CallOptions = {}): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await v1(method, pattern, options);
  return { status: res.status, body: (await res.json()) as T, headers: res.headers };
}

export const BOUNDARY = "----batchboard-test";

/** A multipart body with the parts in the given order (the Node SDK sends the file first). */
export function multipart(parts: ({ name: string; value: string } | { name: string; filename: string; content: string })[]): CallOptions {
  let body = "";
  for (const p of parts) {
    body += `--${BOUNDARY}\r\n`;
    if ("filename" in p) body += `Content-Disposition: form-data; name="${p.name}"; filename="${p.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n${p.content}\r\n`;
    else body += `Content-Disposition: form-data; name="${p.name}"\r\n\r\n${p.value}\r\n`;
  }
  body += `--${BOUNDARY}--\r\n`;
  return { headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}` }, body };
}

export const jsonBody = (value: unknown): CallOptions => ({ headers: { "content-type": "application/json" }, body: JSON.stringify(value) });

export const requestLine = (customId: string, body: Record<string, unknown>, url = "/v1/chat/completions") =>
  JSON.stringify({ custom_id: customId, method: "POST", url, body });

export const chat = (model: string, content: string) => ({ model, messages: [{ role: "user", content }] });
