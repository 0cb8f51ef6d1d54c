// Chunked batches running at the upgrade that moves the open calls off the batch row: each call with
// jobs running in it gets its row in batch_calls (open_jobs: those jobs), and the claim after the
// upgrade counts them, admitting no call past concurrency.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { migrate } from "@/lib/db/migrate";
import { claimJobs } from "@/lib/engine/claim";
import { registerWorker } from "@/lib/engine/workers";
import { useDatabaseBefore } from "../helpers/db";
import { registerTestFlows } from "./fixtures/flows";
import { insertChunkedBatchWithCalls } from "./helpers";

const BATCH_CALLS_MIGRATION = "20270102400000_batch_calls";

registerTestFlows();

describe("the batch_calls migration on chunked batches with calls in flight", () => {
  const db = useDatabaseBefore(BATCH_CALLS_MIGRATION);

  it("opens a row per call with jobs running in it, counting them; the claim then admits only the calls left", async () => {
    const c = new pg.Client({ connectionString: db().url });
    await c.connect();
    try {
      // concurrency 3, chunk_size 10: call 0 all ended, call 1 with 3 jobs still running, call 2 with 10
      await insertChunkedBatchWithCalls(
        c,
        50,
        `INSERT INTO batches (id, flow, dataset_id, status, total, pending, running, succeeded, concurrency, chunk_size, claim_cursor, next_call_id,
                              open_calls, open_call_jobs, started_at)
         VALUES ('b_chunk', 't-chunk', 'ds_c', 'running', 50, 20, 13, 17, 3, 10, 30, 3, '{}', '{}', now())`,
      );
      await c.query(
        `UPDATE batches SET open_calls = t.calls, open_call_jobs = t.ids
         FROM (SELECT array_agg(call_id ORDER BY id) AS calls, array_agg(id ORDER BY id) AS ids FROM jobs WHERE batch_id = 'b_chunk' AND call_id IS NOT NULL) t
         WHERE batches.id = 'b_chunk'`,
      );
      await migrate(db().url);
      const { rows } = await c.query<{ call_id: number; open_jobs: number }>(`SELECT call_id, open_jobs FROM batch_calls WHERE batch_id = 'b_chunk' ORDER BY call_id`);
      expect(rows).toEqual([
        { call_id: 1, open_jobs: 3 },
        { call_id: 2, open_jobs: 10 },
      ]);
      const { rows: cols } = await c.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'batches' AND column_name LIKE 'open_call%'`);
      expect(cols).toEqual([]);
    } finally {
      await c.end();
    }
    // two calls in flight of 3: one more call of 10 records, then none while 10 records wait
    await registerWorker({ id: "wrk_new", host: "test", pid: 1, mode: "standalone", version: "0", concurrency: 8, leaseMs: 30_000 });
    const got = await claimJobs("wrk_new", 8, 30_000);
    expect(got).toHaveLength(10);
    expect(new Set(got.map((j) => j.call))).toEqual(new Set([3]));
    expect(await claimJobs("wrk_new", 8, 30_000)).toHaveLength(0);
  });
});
