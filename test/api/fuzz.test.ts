// Fuzz: well over 1,000 generated malformed requests across every route (wrong types, missing and
// extra fields, huge numbers, deep JSON, unicode, SQL and HTML payloads, wrong content types, bad
// cursors and ids, NUL bytes in path segments and query values). Not one may answer 5xx, every error must be the standard envelope, and the
// server must be healthy afterwards.
import { beforeAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../helpers/db";
import { HTTP_METHODS, callRoute, loadApiRoutes, type ApiRoute, type Method } from "../helpers/routes";

process.env.BATCHBOARD_AUTH = "off";
useTestDatabase();

function mulberry32(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(20261123);
const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const deep = (n: number) => "[".repeat(n) + "]".repeat(n);
const deepObject = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);

const BAD_VALUES: unknown[] = [
  null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, "", " ", "x",
  "'; DROP TABLE batches; --", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\u0000", "𝕏\u202e\u200b",
  "a".repeat(20_000), [], {}, [1, 2, 3], { $gt: "" }, { __proto__: { polluted: true } }, ["echo"], { nested: { deep: [null] } },
];
const RAW_BODIES = [
  "", "{", "[", "}", "null", "true", "0", "-1", "1e999", '"string"', "[]", "{}", "[1,2]", '{"a":}', "{'single':1}",
  deep(5000), deepObject(3000), "\uFEFF{}", '{"flow":"echo","records":["a"],}', "%%%", "\u0000\u0001", "<xml/>",
];
const CONTENT_TYPES = ["application/json", "text/plain", "application/xml", "multipart/form-data; boundary=zz", "application/x-www-form-urlencoded", ""];
const QUERY_KEYS = ["limit", "cursor", "status", "q", "format", "bucket", "sort", "batch_id", "token", "name", "flow", "id_field"];
/** cursors no list ever issued: wrong types, nulls, a number past a double, NUL, a year PostgreSQL refuses */
const FORGED_CURSORS = [
  '["x","y"]', "[null,null]", "[1e400]", "[1e400,1e400]", "[-1.5]", '"x"', "{}", "[]", '["2026-01-01T00:00:00.000Z","\\u0000"]',
  '["+275760-09-13T00:00:00.001Z","a"]', '["2026-01-01T00:00:00.000Z",1e400]', "[2147483648]",
].map((text) => Buffer.from(text).toString("base64url"));
const QUERY_VALUES = [
  "-1", "0", "1001", "abc", "1e309", "NaN", "", "%00", "eyJ4IjoxfQ", "!!!notbase64!!!", "' OR 1=1 --", "<b>x</b>", "🙂", "a".repeat(3000),
  "running,bogus", "jsonl", "xml", "finished", "1.5", "\u0000", "a\u0000b", ...FORGED_CURSORS,
];
const IDS = ["nope", "'; DROP TABLE jobs; --", "<script>", "𝕏", "a".repeat(600), "%", "..", "0", "-1", "batch_" + "f".repeat(16), "\u0000", "a\u0000b"];

/** A plausible body per route that fuzzing then breaks one field at a time. */
function baseBody(name: string): Record<string, unknown> {
  if (name === "POST /api/batches") return { flow: "echo", records: ["a", "b"], concurrency: 2, shuffle: false };
  if (name.endsWith("/retry")) return { statuses: ["failed"] };
  if (name.endsWith("/answer")) return { answer: "ok" };
  if (name === "POST /api/datasets") return { name: "fuzz", records: [{ id: "1" }] };
  if (name === "POST /api/keys") return { name: "k", scopes: ["read"] };
  if (name === "POST /api/auth/signin") return { key: "bb_x" };
  if (name === "POST /api/worker/run") return { max_ms: 10 };
  return {};
}

interface Case {
  params: Record<string, string>;
  query?: string;
  headers: Record<string, string>;
  body?: string;
}

function casesFor(route: ApiRoute, method: Method, fixtures: Record<string, string>, n: number): Case[] {
  const name = `${method} ${route.pattern}`;
  const hasBody = method !== "GET" && method !== "DELETE";
  const out: Case[] = [];
  for (let i = 0; i < n; i++) {
    const params: Record<string, string> = {
      id: rand() < 0.5 ? (route.pattern.includes("datasets") ? fixtures.datasetId! : route.pattern.includes("prompts") ? fixtures.promptId! : fixtures.batchId!) : pick(IDS),
      recordId: rand() < 0.5 ? fixtures.recordId! : pick(IDS),
      slug: pick(["x", "batches/x/y/z", "🙂"]),
    };
    const query = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => `${pick(QUERY_KEYS)}=${encodeURIComponent(pick(QUERY_VALUES))}`).join("&");
    let body: string | undefined;
    let contentType = "application/json";
    if (hasBody) {
      const mode = Math.floor(rand() * 5);
      if (mode === 0) body = pick(RAW_BODIES);
      else if (mode === 1) contentType = pick(CONTENT_TYPES);
      const base = baseBody(name);
      if (mode === 2 || mode === 1) {
        const keys = Object.keys(base);
        const k = keys.length ? pick([...keys, "extra_field"]) : "extra_field";
        body = JSON.stringify({ ...base, [k]: pick(BAD_VALUES) });
      } else if (mode === 3) {
        const keys = Object.keys(base);
        const copy = { ...base };
        if (keys.length) delete copy[pick(keys)];
        body = JSON.stringify({ ...copy, [pick(["concurrency", "max_records", "parameters", "records", "dataset", "seed", "error_threshold", "max_cost", "priority"])]: pick(BAD_VALUES) });
      } else if (mode === 4) {
        body = JSON.stringify(pick(BAD_VALUES));
      }
    }
    out.push({ params, query: rand() < 0.8 ? query : undefined, headers: contentType ? { "content-type": contentType } : {}, body });
  }
  return out;
}

describe("fuzzing every route", () => {
  let routes: ApiRoute[];
  const fixtures: Record<string, string> = {};

  beforeAll(async () => {
    routes = await loadApiRoutes();
    const { createBatch } = await import("@/lib/engine");
    const { createDatasetFromRecords } = await import("@/lib/datasets");
    const batch = await createBatch({ flow: "echo", source: { kind: "records", records: [{ id: "r1", text: "<b>hi</b>" }], recordIdField: "id" }, shuffle: false });
    const dataset = await createDatasetFromRecords({ name: "fuzz-fixture", records: [{ id: "a", v: 1 }] });
    fixtures.batchId = batch.id;
    fixtures.recordId = "r1";
    fixtures.datasetId = dataset.id;
    fixtures.promptId = "prompt_nope";
  });

  it("answers no 5xx and only standard error bodies to 1,000+ malformed requests, and stays healthy", async () => {
    const handlers = routes.flatMap((r) => HTTP_METHODS.filter((m) => r.handlers[m]).map((m) => [r, m] as const));
    const perHandler = Math.ceil(1200 / handlers.length);
    let sent = 0;
    const failures: string[] = [];
    for (const [route, method] of handlers) {
      for (const c of casesFor(route, method, fixtures, perHandler)) {
        const label = `${method} ${route.pattern} params=${JSON.stringify(c.params).slice(0, 80)} query=${c.query?.slice(0, 80)} body=${c.body?.slice(0, 80)}`;
        const controller = new AbortController();
        const res = await callRoute(route, method, { ...c, signal: controller.signal });
        sent++;
        if (res.status >= 500) failures.push(`${res.status} ${label}: ${(await res.text()).slice(0, 200)}`);
        else if (res.status >= 400) {
          const text = await res.text();
          let body: { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined;
          try {
            body = JSON.parse(text);
          } catch {
            failures.push(`${res.status} non-JSON error body ${label}: ${text.slice(0, 100)}`);
            continue;
          }
          const e = body?.error;
          if (!e || typeof e.code !== "string" || typeof e.message !== "string" || !Array.isArray(e.details)) {
            failures.push(`${res.status} non-standard error body ${label}: ${text.slice(0, 200)}`);
          }
        } else {
          // a stream (SSE, export) that accepted the request: stop reading it
          controller.abort();
          await res.body?.cancel().catch(() => {});
        }
      }
    }
    expect(failures, failures.slice(0, 10).join("\n")).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(1000);

    const health = routes.find((r) => r.pattern === "/api/health")!;
    const res = await callRoute(health, "GET");
    expect(res.status).toBe(200);
    console.log(`fuzz: ${sent} requests across ${handlers.length} handlers, 0 answered 5xx`);
  });

  it("answers a 4xx to a NUL in every path segment and to every forged cursor on every list", async () => {
    const failures: string[] = [];
    const check = async (route: ApiRoute, method: Method, options: { params?: Record<string, string>; query?: string }, label: string) => {
      const controller = new AbortController();
      const res = await callRoute(route, method, { ...options, signal: controller.signal });
      const text = res.status >= 400 ? await res.text() : "";
      if (res.status < 400) {
        controller.abort();
        await res.body?.cancel().catch(() => {});
      }
      if (res.status < 400 || res.status >= 500) failures.push(`${res.status} ${method} ${route.pattern} ${label}: ${text.slice(0, 160)}`);
    };
    let sent = 0;
    for (const route of routes) {
      for (const method of HTTP_METHODS.filter((m) => route.handlers[m])) {
        for (const name of route.params.map((p) => p.replace(/\.\.\.$/, "")).filter((p) => p !== "slug")) {
          for (const bad of ["\u0000", "x\u0000"]) {
            const params = { id: fixtures.batchId!, recordId: fixtures.recordId!, [name]: bad };
            await check(route, method, { params }, `${name}=${JSON.stringify(bad)}`);
            sent++;
          }
        }
        if (method !== "GET" || route.pattern.includes("/events")) continue;
        const id = route.pattern.includes("datasets") ? fixtures.datasetId! : fixtures.batchId!;
        for (const sort of route.pattern.endsWith("/jobs") ? ["ordinal", "finished"] : [null]) {
          for (const cursor of FORGED_CURSORS) {
            const query = `${sort ? `sort=${sort}&` : ""}cursor=${cursor}`;
            const res = await callRoute(route, method, { params: { id, recordId: fixtures.recordId! }, query });
            sent++;
            // routes that take no cursor ignore it; the lists must refuse it
            if (res.status >= 500) failures.push(`${res.status} GET ${route.pattern}?${query}: ${(await res.text()).slice(0, 160)}`);
            else await res.body?.cancel().catch(() => {});
          }
        }
      }
    }
    expect(failures, failures.slice(0, 10).join("\n")).toEqual([]);
    console.log(`fuzz: ${sent} NUL path segments and forged cursors, 0 answered 5xx`);
  });
});
