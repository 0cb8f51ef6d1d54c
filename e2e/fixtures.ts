// Shared helpers for the API contract specs (e2e/api) and the dashboard specs: create batches and
// datasets through the REST API, and wait for conditions with a deadline (never a fixed sleep).
import { expect, type APIRequestContext, type APIResponse } from "@playwright/test";

export type Json = Record<string, unknown>;

export interface BatchJson {
  id: string;
  name: string | null;
  flow: string;
  status: string;
  stop_reason: string | null;
  dataset_id: string | null;
  parameters: Json;
  options: Json & { concurrency: number; shuffle: boolean; error_policy: string };
  progress: { total: number; pending: number; running: number; reserved: number; waiting_input: number; waiting_provider: number; succeeded: number; failed: number; cancelled: number; skipped: number; percent: number };
  cost: { spent: number; max: number | null; projected_total: number | null };
  timing: { created_at: string; started_at: string | null; completed_at: string | null; duration_seconds: number | null; items_per_second: number | null; eta_seconds: number | null };
  metadata: Json;
}

export const TERMINAL = ["completed", "failed", "cancelled"];

/** A unique suffix so specs never collide on names in the shared e2e database. */
export const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** `n` inline records with ids r0..r{n-1}. */
export const inlineRecords = (n: number, prefix = "r") => Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, text: `record ${i}` }));

export async function createBatch(request: APIRequestContext, body: Json, headers: Record<string, string> = {}): Promise<BatchJson> {
  const res = await request.post("/api/batches", { data: body, headers });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()) as BatchJson;
}

export async function getBatch(request: APIRequestContext, id: string): Promise<BatchJson> {
  const res = await request.get(`/api/batches/${id}`);
  expect(res.status()).toBe(200);
  return (await res.json()) as BatchJson;
}

/** Polls `probe` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitUntil<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function waitForBatch(request: APIRequestContext, id: string, statuses: string[] = TERMINAL, timeoutMs = 45_000): Promise<BatchJson> {
  return waitUntil(
    async () => {
      const b = await getBatch(request, id);
      return statuses.includes(b.status) ? b : undefined;
    },
    `batch ${id} to be ${statuses.join("|")}`,
    timeoutMs,
  );
}

/** Creates a batch of `n` inline records on the echo flow and waits for it to finish. */
export async function runEchoBatch(request: APIRequestContext, n = 5, extra: Json = {}): Promise<BatchJson> {
  const created = await createBatch(request, { flow: "echo", parameters: {}, records: inlineRecords(n), shuffle: false, ...extra });
  return waitForBatch(request, created.id);
}

/** A batch that stays unfinished: slow echo, paused right after creation. */
export async function createPausedBatch(request: APIRequestContext, extra: Json = {}): Promise<BatchJson> {
  const created = await createBatch(request, { flow: "echo", parameters: { delay_ms: 600_000 }, records: inlineRecords(3), concurrency: 1, ...extra });
  const res = await request.post(`/api/batches/${created.id}/pause`);
  expect(res.status(), await res.text()).toBe(200);
  return (await res.json()) as BatchJson;
}

export async function createDataset(request: APIRequestContext, records: unknown[], name = unique("ds")): Promise<Json & { id: string; name: string }> {
  const res = await request.post("/api/datasets", { data: { name, records } });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()) as Json & { id: string; name: string };
}

/** Asserts the one error body, its status and code; returns the error for further checks. */
export async function expectError(res: APIResponse, status: number, code: string) {
  const text = await res.text();
  expect(res.status(), text).toBe(status);
  const body = JSON.parse(text) as { error: { code: string; message: string; details: { path?: string; message: string }[] } };
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  expect(Array.isArray(body.error.details)).toBe(true);
  expect(text).not.toMatch(/\n\s+at /); // no stack trace on the wire
  return body.error;
}

export const detailPaths = (error: { details: { path?: string }[] }) => error.details.map((d) => d.path);

/**
 * Reads a Server-Sent Events response as it arrives. `readUntil(pattern)` reads until the text so far
 * matches (failing after 30 s or if the stream ends first); `text()` is everything read; `reader`
 * reads on (e.g. to see the stream close).
 */
export function sseReader(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  return {
    reader,
    text: () => text,
    async readUntil(pattern: RegExp) {
      const deadline = Date.now() + 30_000;
      while (!pattern.test(text)) {
        if (Date.now() > deadline) throw new Error(`no ${pattern} in ${text}`);
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      expect(text).toMatch(pattern);
    },
  };
}
