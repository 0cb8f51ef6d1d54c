// http in chunked mode: one request per chunk with the records in its body ({{records}}), results
// mapped back by index or by an id field; an answer that cannot be mapped fails each record it
// leaves without a result, saying why. Against a local server, then on the real engine.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { createBatch, getBatch } from "@/lib/engine";
import { http } from "@/lib/flows/http";
import type { FlowError } from "@/lib/flows/types";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { waitFor } from "@/test/support/wait";
import { useTestDatabase } from "../helpers/db";
import { record, rejection, runChunkFlow, runFlow } from "./context";
import { startTestServer, type SeenRequest, type TestServer } from "./server";

let server: TestServer;
const savedAllowlist = process.env.BATCHBOARD_HTTP_ALLOWLIST;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  process.env.BATCHBOARD_HTTP_ALLOWLIST = "127.0.0.1";
  server.requests.length = 0;
});
afterEach(() => {
  if (savedAllowlist === undefined) delete process.env.BATCHBOARD_HTTP_ALLOWLIST;
  else process.env.BATCHBOARD_HTTP_ALLOWLIST = savedAllowlist;
});

type Body = { inputs: { t: string }[]; ids: string[] };
const bodyOf = (req: SeenRequest) => JSON.parse(req.body) as Body;
/** Upper-cases each input; answers in reverse order with each result's id. */
const byIdAnswer = (req: SeenRequest) => {
  const { inputs, ids } = bodyOf(req);
  return { json: { data: inputs.map((x, k) => ({ id: ids[k], upper: x.t.toUpperCase() })).reverse() } };
};
const texts = (...t: string[]) => t.map((text, i) => record({ text }, `r${i}`, i));
const params = (chunked: Record<string, unknown>) => ({
  url: `${server.url}/bulk`,
  body_template: { inputs: "{{records}}", ids: "{{record_ids}}" },
  chunked: { item_template: { t: "{{record.text}}" }, results_path: "data", ...chunked },
});
const resultsOf = (outcomes: Awaited<ReturnType<typeof runChunkFlow>>["outcomes"]) =>
  outcomes.map((o) => ("result" in o ? o.result : "error" in o ? `${o.error.code}: ${o.error.message}` : "waiting"));

describe("http chunked mode", () => {
  it("sends the chunk's items in one body and maps results back by index", async () => {
    server.reply((req) => ({ json: { data: bodyOf(req).inputs.map((x) => ({ upper: x.t.toUpperCase() })) } }));
    const { outcomes } = await runChunkFlow(http, texts("a", "b", "c"), params({}));
    expect(server.requests).toHaveLength(1);
    expect(bodyOf(server.requests[0]!)).toEqual({ inputs: [{ t: "a" }, { t: "b" }, { t: "c" }], ids: ["r0", "r1", "r2"] });
    expect(resultsOf(outcomes)).toEqual([{ upper: "A" }, { upper: "B" }, { upper: "C" }]);
  });

  it("maps results back by id_field, whatever their order", async () => {
    server.reply(byIdAnswer);
    const { outcomes } = await runChunkFlow(http, texts("a", "b", "c"), params({ id_field: "id" }));
    expect(resultsOf(outcomes)).toEqual([
      { id: "r0", upper: "A" },
      { id: "r1", upper: "B" },
      { id: "r2", upper: "C" },
    ]);
  });

  it("a result missing for one id fails that record alone, naming the id", async () => {
    server.reply({ json: { data: [{ id: "r0", upper: "A" }, { id: "r2", upper: "C" }, { id: "zz", upper: "?" }] } });
    const { outcomes } = await runChunkFlow(http, texts("a", "b", "c"), params({ id_field: "id" }));
    expect(resultsOf(outcomes)).toEqual([{ id: "r0", upper: "A" }, 'invalid_response: no result with id "r1" in the 3 results at data', { id: "r2", upper: "C" }]);
    expect((outcomes[1] as { error: FlowError }).error.retryable).toBe(false);
  });

  it("the wrong number of results by index, or no results array, fails every record of the call with a clear error: none is dropped", async () => {
    server.reply({ json: { data: [{ upper: "A" }, { upper: "B" }] } });
    const short = await runChunkFlow(http, texts("a", "b", "c"), params({}));
    expect(resultsOf(short.outcomes)).toEqual(Array(3).fill("invalid_response: 2 results at data for 3 records: they cannot be mapped back by index"));
    server.reply({ json: { error: "busy" } });
    const none = await runChunkFlow(http, texts("a", "b"), params({}));
    expect(resultsOf(none.outcomes)).toEqual(Array(2).fill("invalid_response: the response has no results array at data for a chunk of 2 records"));
    // the answer is kept with each failure, for the job page
    expect((none.outcomes[0] as { error: FlowError }).error.result).toEqual({ error: "busy" });
  });

  it("with chunk_size 1 (run), chunked mode sends the same body for one record and returns its result", async () => {
    server.reply(byIdAnswer);
    const { result } = await runFlow(http, record({ text: "q" }, "r9"), params({ id_field: "id" }));
    expect(bodyOf(server.requests[0]!)).toEqual({ inputs: [{ t: "q" }], ids: ["r9"] });
    expect(result).toEqual({ id: "r9", upper: "Q" });
  });

  it("a 5xx fails the whole call, retryable; a record missing a template field fails alone", async () => {
    server.reply({ status: 503, json: {} });
    expect(await rejection(runChunkFlow(http, texts("a"), params({})))).toMatchObject({ code: "http_503", retryable: true });
    server.reply((req) => ({ json: { data: bodyOf(req).inputs.map((x) => ({ upper: x.t.toUpperCase() })) } }));
    const { outcomes } = await runChunkFlow(http, [record({ text: "a" }, "r0"), record({ other: 1 }, "r1", 1)], params({}));
    expect(resultsOf(outcomes)[0]).toEqual({ upper: "A" });
    expect((outcomes[1] as { error: FlowError }).error.code).toBe("template_field_missing");
  });
});

describe("http chunked batches", () => {
  useTestDatabase();
  let worker: WorkerHandle;
  beforeAll(async () => {
    worker = await startWorker({ mode: "in-process", concurrency: 4, pollMs: 50, maintenanceMs: 200, log: () => {} });
  });
  afterAll(async () => {
    await worker?.stop(1000);
  });

  const create = (input: Record<string, unknown>) =>
    createBatch({ flow: "http", source: { kind: "records", records: [{ id: "a", text: "x" }], recordIdField: "id" }, ...input }).then(
      () => null,
      (e: unknown) => e as { code: string; details: { path: string }[] },
    );

  it("chunk_size needs parameters.chunked; chunked mode refuses URL placeholders and record placeholders in the body", async () => {
    const noMode = await create({ parameters: { url: `${server.url}/one` }, chunk_size: 5 });
    expect(noMode?.details.map((d) => d.path)).toEqual(["chunk_size"]);
    const urlPlaceholder = await create({ parameters: { url: `${server.url}/x/{{record.text}}`, chunked: {} }, chunk_size: 5 });
    expect(urlPlaceholder?.details.map((d) => d.path)).toEqual(["parameters.url"]);
    const bodyPlaceholder = await create({ parameters: { url: `${server.url}/x`, chunked: {}, body_template: { t: "{{record.text}}" } } });
    expect(bodyPlaceholder?.details.map((d) => d.path)).toEqual(["parameters.body_template"]);
  });

  it("runs a batch in requests of at most chunk_size records, each result on its own record", async () => {
    server.reply(byIdAnswer);
    const records = Array.from({ length: 23 }, (_, i) => ({ id: `r${i}`, text: `t${i}` }));
    const b = await createBatch({ flow: "http", parameters: params({ id_field: "id" }), source: { kind: "records", records, recordIdField: "id" }, chunk_size: 4, concurrency: 2 });
    expect(b.chunkSize).toBe(4);
    const done = await waitFor("done", async () => {
      const x = await getBatch(b.id);
      return x.status === "completed" && x;
    }, 30_000);
    expect(done.succeeded).toBe(23);
    expect(server.requests.every((r) => bodyOf(r).inputs.length <= 4)).toBe(true);
    expect(server.requests.reduce((n, r) => n + bodyOf(r).inputs.length, 0)).toBe(23);
    const { rows } = await getPool().query<{ record_id: string; result: { id: string; upper: string } }>(`SELECT record_id, result FROM jobs WHERE batch_id = $1`, [b.id]);
    for (const r of rows) expect(r.result).toEqual({ id: r.record_id, upper: `T${r.record_id.slice(1)}` });
  });
});
