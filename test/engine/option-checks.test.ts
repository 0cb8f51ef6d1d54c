// A batch's settings are checked by one schema (batchOptionsSchema in lib/contract/batch-options.ts),
// whoever creates the batch: the API's body, a run again, or a caller inside lib that passes the
// engine its settings directly. Out of range, the answer is the one validation error naming the
// field, and nothing is written.
import { describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { createBatch, getBatch } from "@/lib/engine";
import { cloneBatch } from "@/lib/engine/clone-batch";
import { useTestDatabase } from "../helpers/db";
import { api } from "../security/api";

process.env.BATCHBOARD_AUTH = "off";
useTestDatabase();

const records = { kind: "records" as const, records: [{ id: "a" }, { id: "b" }], recordIdField: "id" };
const rows = async () => {
  const { rows } = await getPool().query<{ batches: number; datasets: number; jobs: number }>(
    `SELECT (SELECT count(*)::int FROM batches) AS batches, (SELECT count(*)::int FROM datasets) AS datasets, (SELECT count(*)::int FROM jobs) AS jobs`,
  );
  return rows[0]!;
};

describe("a batch's settings, checked once for every caller", () => {
  it("refuses a run again with concurrency 0 from inside lib (the engine's cloneBatch), naming the field, writing nothing", async () => {
    const parent = await getBatch((await createBatch({ flow: "echo", source: records })).id);
    const before = await rows();
    await expect(cloneBatch(parent, { flow: "echo", concurrency: 0 }, null, "all")).rejects.toMatchObject({
      code: "validation_failed",
      details: [expect.objectContaining({ path: "concurrency" })],
    });
    expect(await rows()).toEqual(before);
  });

  it("refuses the same through POST /api/batches/{id}/clone with a 422 naming the field, writing nothing", async () => {
    const parent = await createBatch({ flow: "echo", source: records });
    const before = await rows();
    const res = await api("POST", "/api/batches/[id]/clone", { params: { id: parent.id }, body: { concurrency: 0 } });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("validation_failed");
    expect(res.json.error.details).toEqual([expect.objectContaining({ path: "concurrency" })]);
    expect(await rows()).toEqual(before);
  });

  it("names each field out of range, and checks cost_reservation against max_cost, for callers inside lib", async () => {
    const before = await rows();
    const err = await createBatch({ flow: "echo", source: records, max_retries: 101, priority: 1.5, ttl_seconds: 0 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "validation_failed" });
    const paths = (err as { details: { path: string }[] }).details.map((d) => d.path).sort();
    expect(paths).toEqual(["max_retries", "priority", "ttl_seconds"]);
    await expect(createBatch({ flow: "echo", source: records, cost_reservation: "mean" })).rejects.toMatchObject({
      code: "validation_failed",
      details: [{ path: "cost_reservation", message: "needs max_cost: it reserves against the budget" }],
    });
    expect(await rows()).toEqual(before);
  });

  it("POST /api/batches refuses cost_reservation without max_cost in the body's own check (a 422 naming the field)", async () => {
    const before = await rows();
    const res = await api("POST", "/api/batches", { body: { flow: "echo", records: [{ id: "a" }], cost_reservation: "mean" } });
    expect(res.status).toBe(422);
    expect(res.json.error.details).toEqual([{ path: "cost_reservation", message: "needs max_cost: it reserves against the budget" }]);
    expect(await rows()).toEqual(before);
  });

  it("applies the schema's defaults to what an internal caller leaves out", async () => {
    const b = await getBatch((await createBatch({ flow: "echo", source: records })).id);
    expect({ concurrency: b.concurrency, errorPolicy: b.errorPolicy, interactive: b.interactive }).toEqual({ concurrency: 5, errorPolicy: "continue", interactive: false });
  });
});
