// The API as a client sees it, for the security tests: route handlers called in-process on the
// file's own database (auth off: these tests are about what a caller with write access can do).
import { getBatch } from "@/lib/engine";
import type { BatchDetail } from "@/lib/engine";
import { waitFor } from "@/test/support/wait";
import { callRoute, loadApiRoutes, type ApiRoute, type Method } from "../helpers/routes";

let routes: Promise<ApiRoute[]> | undefined;

export interface ApiAnswer {
  status: number;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export async function api(
  method: Method,
  pattern: string,
  { params, body, query }: { params?: Record<string, string>; body?: unknown; query?: string } = {},
): Promise<ApiAnswer> {
  const route = (await (routes ??= loadApiRoutes())).find((r) => r.pattern === pattern);
  if (!route) throw new Error(`no route ${pattern}`);
  const res = await callRoute(route, method, {
    params,
    query,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON (a CSV or JSONL export): the text is what the test reads
  }
  return { status: res.status, text, json };
}

export const createBatch = (body: unknown) => api("POST", "/api/batches", { body });

export async function finished(batchId: string, ms = 30_000): Promise<BatchDetail> {
  return waitFor(
    `batch ${batchId} to finish`,
    async () => {
      const b = await getBatch(batchId);
      return ["completed", "failed", "cancelled"].includes(b.status) ? b : null;
    },
    ms,
  );
}
