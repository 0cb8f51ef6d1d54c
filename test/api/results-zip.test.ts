// GET /api/batches/{id}/results?format=zip: unzipped and read back. processed/ holds each record's
// result (the raw response taken out, citations beside it) or error, raw/ the provider's response
// when the batch has save_raw, and summary.json the summary; record ids become safe file names.
import { beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { useTestDatabase } from "../helpers/db";
import { callRoute, loadApiRoutes, type ApiRoute } from "../helpers/routes";
import { unzip } from "../helpers/zip";
import { createBatch } from "../security/api";

process.env.BATCHBOARD_AUTH = "off";
useTestDatabase();

let results: ApiRoute;
beforeAll(async () => {
  results = (await loadApiRoutes()).find((r) => r.pattern === "/api/batches/[id]/results")!;
});

const RAW = { status_code: 200, request_id: "req_1", body: { id: "chatcmpl-1", choices: [{ message: { content: '{"total": 12.5}' } }] } };
const JOBS = [
  { id: "inv-1", status: "succeeded", result: { content: '{"total": 12.5}', parsed: { total: 12.5 }, citations: [{ cited_text: "$12.50" }], field_citations: { total: [{ cited_text: "$12.50" }] }, response: RAW }, cost: 0.01 },
  { id: "../../etc/passwd", status: "succeeded", result: { label: "x" }, cost: 0 },
  { id: "a/b", status: "failed", error: "timeout", cost: 0.02 },
  { id: "left", status: "pending" },
];

async function batchWith(saveRaw: boolean): Promise<string> {
  const created = await createBatch({ flow: "echo", records: JOBS.map((j) => ({ id: j.id })), shuffle: false, save_raw: saveRaw });
  expect(created.status).toBe(201);
  expect(created.json.options.save_raw).toBe(saveRaw);
  for (const j of JOBS) {
    await getPool().query(
      `UPDATE jobs SET status = $3::job_status, result = $4::jsonb, error_code = $5, error_message = $6, cost = $7, attempts = 1
       WHERE batch_id = $1 AND record_id = $2`,
      [created.json.id, j.id, j.status, j.result ? JSON.stringify(j.result) : null, j.error ?? null, j.error ? "took too long" : null, j.cost ?? 0],
    );
  }
  return created.json.id;
}

async function download(id: string, query = "format=zip") {
  const res = await callRoute(results, "GET", { params: { id }, query });
  return { res, body: Buffer.from(await res.arrayBuffer()) };
}

const parse = (b: Buffer | undefined) => JSON.parse(b!.toString("utf8"));

describe("results as a zip", () => {
  it("processed/, raw/ with save_raw, and summary.json; ids as safe file names", async () => {
    const id = await batchWith(true);
    const { res, body } = await download(id);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/zip");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="${id}-results.zip"`);
    const files = await unzip(body);
    expect([...files.keys()]).toEqual([
      "processed/inv-1.json",
      "raw/inv-1.json",
      "processed/%2E%2E%2F..%2Fetc%2Fpasswd.json",
      "processed/a%2Fb.json",
      "summary.json",
    ]);
    expect(parse(files.get("processed/inv-1.json"))).toEqual({
      record_id: "inv-1",
      status: "succeeded",
      result: { content: '{"total": 12.5}', parsed: { total: 12.5 }, citations: [{ cited_text: "$12.50" }], field_citations: { total: [{ cited_text: "$12.50" }] } },
      citations: [{ cited_text: "$12.50" }],
      field_citations: { total: [{ cited_text: "$12.50" }] },
      error: null,
      cost: 0.01,
    });
    expect(parse(files.get("raw/inv-1.json"))).toEqual(RAW);
    expect(parse(files.get("processed/a%2Fb.json"))).toEqual({
      record_id: "a/b",
      status: "failed",
      result: null,
      error: { code: "timeout", message: "took too long" },
      cost: 0.02,
    });
    const summary = parse(files.get("summary.json"));
    expect(summary).toMatchObject({ batch_id: id, counts: { total: 4, succeeded: 2, failed: 1, pending: 1 }, errors: [{ code: "timeout", count: 1 }] });
    expect(summary.cost.total).toBeCloseTo(0.03, 10);
  });

  it("without save_raw there is no raw/ (the processed result still leaves the response out)", async () => {
    const id = await batchWith(false);
    const files = await unzip((await download(id)).body);
    expect([...files.keys()].filter((n) => n.startsWith("raw/"))).toEqual([]);
    expect(parse(files.get("processed/inv-1.json")).result).not.toHaveProperty("response");
  });

  it("?status= picks the records written", async () => {
    const id = await batchWith(false);
    const files = await unzip((await download(id, "format=zip&status=failed")).body);
    expect([...files.keys()]).toEqual(["processed/a%2Fb.json", "summary.json"]);
  });

  it("404s before the stream for an unknown batch, 422 for an unknown format", async () => {
    expect((await download("nope")).res.status).toBe(404);
    expect((await download("nope", "format=tar")).res.status).toBe(422);
  });
});
