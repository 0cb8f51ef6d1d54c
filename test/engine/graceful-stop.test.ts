// A worker stopped at any moment of its cycle hands back what it has not finished: nothing stays
// running under its name, no attempt is spent on a job it did not run, and the counters stay exact.
// Fast jobs keep an outcome write (which also claims) in flight almost all the time, so stops land
// while a claim is on its way back: the moment a stop used to miss.
import { describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { createBatch } from "@/lib/engine";
import { startWorker } from "@/lib/worker/worker";
import { useTestDatabase as withTestDatabase } from "../helpers/db";
import { registerTestFlows } from "./fixtures/flows";
import { batchRow, createTestTables, expectCountersExact, waitFor } from "./helpers";

withTestDatabase();
registerTestFlows();

describe("graceful stop", () => {
  it("leaves no job running or reserved under a stopped worker, whenever the stop lands", async () => {
    await createTestTables();
    const b = await createBatch({
      flow: "t-echo",
      source: { kind: "records", records: Array.from({ length: 20_000 }, (_, i) => ({ id: `r${i}` })), recordIdField: "id" },
      shuffle: false,
      concurrency: 16,
    });
    const pool = getPool();
    for (let round = 0; round < 12; round++) {
      const before = (await batchRow(b.id)).succeeded as number;
      const w = await startWorker({ mode: "in-process", concurrency: 16, leaseMs: 5000, pollMs: 20, maintenanceMs: 60_000, log: () => {} });
      await waitFor("jobs under way", async () => ((await batchRow(b.id)).succeeded as number) > before + 50 + round * 7);
      await w.stop(2000);
      const held = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE lease_owner = $1 OR (status = 'running' AND batch_id = $2)`, [w.id, b.id]);
      expect({ round, held: held.rows[0]!.n }).toEqual({ round, held: 0 });
      const row = await batchRow(b.id);
      expect({ round, running: row.running, reserved: row.reserved }).toEqual({ round, running: 0, reserved: 0 });
      await expectCountersExact(b.id);
      // a job given back unstarted has spent no attempt
      const odd = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE batch_id = $1 AND status = 'pending' AND attempts <> 0`, [b.id]);
      expect(odd.rows[0]!.n).toBe(0);
      const worker = await pool.query(`SELECT stopped_at, in_flight FROM workers WHERE id = $1`, [w.id]);
      expect(worker.rows[0]).toMatchObject({ in_flight: [] });
    }
  });
});
