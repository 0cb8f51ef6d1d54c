// chunk_size through the API: the 422s naming it, the flows that chunk (GET /api/flows), the value
// on GET /api/batches/{id}, and Run again keeping it.
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../helpers/db";
import { api, createBatch } from "../security/api";

process.env.BATCHBOARD_AUTH = "off";
useTestDatabase();

const records = [{ id: "a", text: "x" }];
const embed = { flow: "embed", records, parameters: { base_url: "http://127.0.0.1:9/v1", model: "m" } };
const chunkedHttp = { flow: "http", records, parameters: { url: "http://127.0.0.1:9/bulk", chunked: {} } };

describe("chunk_size on POST /api/batches", () => {
  it.each([
    ["above the flow's maximum", { ...embed, chunk_size: 2049 }],
    ["on a flow without runChunk", { flow: "echo", records, chunk_size: 5 }],
    ["on http without chunked mode", { flow: "http", records, parameters: { url: "http://127.0.0.1:9/x" }, chunk_size: 5 }],
    ["zero", { ...embed, chunk_size: 0 }],
    ["not an integer", { ...embed, chunk_size: 2.5 }],
  ])("refuses a chunk_size %s with a 422 naming chunk_size", async (_what, body) => {
    const res = await createBatch(body);
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("validation_failed");
    expect(res.json.error.details.map((d: { path: string }) => d.path)).toEqual(["chunk_size"]);
  });

  it("GET /api/flows says which flows chunk and how much", async () => {
    const flows = (await api("GET", "/api/flows")).json.items as { name: string; chunk: unknown }[];
    const chunk = Object.fromEntries(flows.map((f) => [f.name, f.chunk]));
    // sizes per mode, from the flow's one declaration
    const providerBatch = { default_size: 1000, max_size: 50_000, min_size: 2 };
    expect(chunk.embed).toEqual({
      default_size: null,
      max_size: null,
      min_size: null,
      parameter: "mode",
      modes: { live: { default_size: 1, max_size: 2048, min_size: 1 }, provider_batch: providerBatch },
    });
    expect(chunk.llm).toEqual({ default_size: null, max_size: null, min_size: null, parameter: "mode", modes: { provider_batch: providerBatch } });
    expect(chunk.http).toEqual({ default_size: 10, max_size: 1000, min_size: 1, parameter: "chunked", modes: null });
    expect(chunk.echo).toBeNull();
  });

  it("returns chunk_size on GET /api/batches/{id}: as asked, the flow's default, or 1; Run again keeps it", async () => {
    const asked = await createBatch({ ...embed, chunk_size: 100 });
    expect(asked.status).toBe(201);
    const got = await api("GET", "/api/batches/[id]", { params: { id: asked.json.id } });
    expect(got.json.options.chunk_size).toBe(100);
    expect((await createBatch(chunkedHttp)).json.options.chunk_size).toBe(10);
    expect((await createBatch({ flow: "echo", records })).json.options.chunk_size).toBe(1);
    const again = await api("POST", "/api/batches/[id]/clone", { params: { id: asked.json.id }, body: {} });
    expect(again.status).toBe(201);
    expect(again.json.options.chunk_size).toBe(100);
  });
});
