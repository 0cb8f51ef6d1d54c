// Valid JSON the rest of the system cannot take, refused at the door with a 422, before anything is
// written; never a 500 from deep inside:
// - text PostgreSQL cannot store: U+0000, and half of a UTF-16 surrogate pair (an emoji cut in two),
//   anywhere in any body (a flow parameter, a metadata key, a record field, an answer), with the
//   field named;
// - nesting deeper than MAX_JSON_DEPTH: JSON.parse copes, JSON.stringify and jsonb overflow their stacks.
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH } from "@/lib/db/storable";
import { getPool } from "@/lib/db/client";
import { useTestDatabase } from "../helpers/db";
import { callRoute, loadApiRoutes, type ApiRoute } from "../helpers/routes";

process.env.BATCHBOARD_AUTH = "off";
useTestDatabase();

let routes: ApiRoute[];
beforeAll(async () => {
  routes = await loadApiRoutes();
});

/** POSTs `text` as it is (JSON.stringify writes NUL as \u0000 and a lone surrogate as \udXXX). */
async function post(pattern: string, text: string, params: Record<string, string> = {}) {
  const route = routes.find((r) => r.pattern === pattern);
  if (!route) throw new Error(`no route ${pattern}`);
  const res = await callRoute(route, "POST", { params, headers: { "content-type": "application/json" }, body: text });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, json: (await res.json()) as any };
}

const NUL = "\u0000";
const HIGH = "\ud83d"; // the first half of 😀
const LOW = "\ude00"; // the second half

/** what, route, body, the field the 422 must name */
const cases: [string, string, unknown, string][] = [
  ["a flow parameter", "/api/batches", { flow: "review", records: ["a"], parameters: { question: `q${NUL}` } }, "parameters.question"],
  ["an array item in a parameter", "/api/batches", { flow: "review", records: ["a"], parameters: { options: ["x", `y${HIGH}`] } }, "parameters.options.1"],
  ["a metadata key", "/api/batches", { flow: "echo", records: ["a"], metadata: { [`k${NUL}`]: 1 } }, "metadata.k"],
  ["a record field", "/api/batches", { flow: "echo", records: [{ id: "a", text: "ok" }, { id: "b", text: `${LOW}x` }] }, "records.1.text"],
  ["a batch name", "/api/batches", { flow: "echo", records: ["a"], name: `n${NUL}` }, "name"],
  ["a dataset record", "/api/datasets", { name: "d", records: [{ id: "1", text: `cut ${HIGH}` }] }, "records.0.text"],
  ["an API key name", "/api/keys", { name: `k${NUL}`, scopes: ["read"] }, "name"],
];

/** Rows in every table a refused request could have written to. */
async function rowCounts() {
  const { rows } = await getPool().query(
    `SELECT (SELECT count(*) FROM batches)::int AS batches, (SELECT count(*) FROM jobs)::int AS jobs,
            (SELECT count(*) FROM datasets)::int AS datasets, (SELECT count(*) FROM dataset_records)::int AS records,
            (SELECT count(*) FROM api_keys)::int AS keys, (SELECT count(*) FROM idempotency_keys)::int AS idempotency_keys`,
  );
  return rows[0];
}

describe("text PostgreSQL cannot store, in a JSON body", () => {
  for (const [what, pattern, body, path] of cases) {
    it(`${what}: 422 naming ${path}`, async () => {
      const r = await post(pattern, JSON.stringify(body));
      expect(r.status).toBe(422);
      expect(r.json.error.code).toBe("validation_failed");
      expect(r.json.error.details[0].path).toBe(path);
      expect(r.json.error.message).toMatch(path.includes("metadata") ? /key must not contain U\+0000/ : /must not contain/);
    });
  }

  it("an answer to a prompt: 422 before the prompt is even looked up", async () => {
    const r = await post("/api/prompts/[id]/answer", JSON.stringify({ answer: `yes${HIGH}` }), { id: "prm_none" });
    expect(r.status).toBe(422);
    expect(r.json.error.details[0].path).toBe("answer");
  });

  it("nothing was written by the refused requests", async () => {
    // sends every refused body itself, so it holds whatever ran before it (or nothing)
    const before = await rowCounts();
    for (const [, pattern, body] of cases) expect((await post(pattern, JSON.stringify(body))).status).toBe(422);
    expect((await post("/api/prompts/[id]/answer", JSON.stringify({ answer: `yes${HIGH}` }), { id: "prm_none" })).status).toBe(422);
    expect(await rowCounts()).toEqual(before);
  });

  it("a whole surrogate pair spelled as escapes, and a literal backslash-u, are stored as given", async () => {
    const text = `{"flow":"echo","name":"ok \\ud83d\\ude00","records":[{"id":"a","text":"\\\\u0000 \\\\ud83d"}]}`;
    const r = await post("/api/batches", text);
    expect(r.status).toBe(201);
    expect(r.json.name).toBe("ok 😀");
    const { rows } = await getPool().query(
      `SELECT d.data FROM batches b JOIN dataset_records d ON d.dataset_id = b.dataset_id WHERE b.id = $1`,
      [r.json.id],
    );
    expect(rows[0].data).toEqual({ id: "a", text: "\\u0000 \\ud83d" });
  });
});

describe("nesting", () => {
  const nested = (n: number) => "[".repeat(n) + "1" + "]".repeat(n);
  const objects = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);

  // each body wraps the nested value in `around` levels of its own (the body, the records array, the record)
  it.each([
    ["a record", "/api/batches", 3, (n: number) => `{"flow":"echo","records":[{"id":"a","x":${objects(n)}}]}`],
    ["metadata", "/api/batches", 2, (n: number) => `{"flow":"echo","records":["a"],"metadata":{"x":${nested(n)}}}`],
    ["a dataset record", "/api/datasets", 3, (n: number) => `{"name":"deep","records":[{"id":"a","x":${nested(n)}}]}`],
  ])("%s nested 10,000 deep or one level past the limit: 422 limit_exceeded; at the limit it is stored", async (_what, pattern, around, body) => {
    for (const n of [10_000, MAX_JSON_DEPTH - around + 1]) {
      const deep = await post(pattern, body(n));
      expect(deep.status).toBe(422);
      expect(deep.json.error).toMatchObject({ code: "limit_exceeded", message: expect.stringContaining(`deeper than ${MAX_JSON_DEPTH} levels`) });
    }
    const atLimit = await post(pattern, body(MAX_JSON_DEPTH - around));
    expect(atLimit.status).toBe(201);
  });

  it("brackets inside strings, and escaped quotes and backslashes before them, do not count", async () => {
    // name: a \" [[   s: a lone backslash   t: " then 500 {
    const text = String.raw`{"flow":"echo","name":"a \\\" [[","records":[{"id":"a","s":"\\","t":"\" ${"{".repeat(500)}"}]}`;
    const r = await post("/api/batches", text);
    expect(r.status).toBe(201);
    expect(r.json.name).toBe('a \\" [[');
    const { rows } = await getPool().query(`SELECT d.data FROM batches b JOIN dataset_records d ON d.dataset_id = b.dataset_id WHERE b.id = $1`, [r.json.id]);
    expect(rows[0].data).toEqual({ id: "a", s: "\\", t: `" ${"{".repeat(500)}` });
  });
});
