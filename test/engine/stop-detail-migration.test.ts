// Batches stopped before stop_detail existed get the numbers their counters still hold when the
// migration adds the column, so their outcome reads like a new one's.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { toBatchJson } from "@/lib/api/serialize";
import { migrate } from "@/lib/db/migrate";
import { getBatch } from "@/lib/engine";
import { useDatabaseBefore } from "../helpers/db";

const STOP_DETAIL_MIGRATION = "20261213000000_batch_stop_detail";

describe("the stop_detail migration on batches stopped before it", () => {
  const db = useDatabaseBefore(STOP_DETAIL_MIGRATION);

  it("fills each stop's numbers from the counters and the failed job", async () => {
    const c = new pg.Client({ connectionString: db().url });
    await c.connect();
    try {
      await c.query(`INSERT INTO datasets (id, name, kind, format, record_count) VALUES ('ds_m', 'inline:m', 'inline', 'inline', 3)`);
      await c.query(
        `INSERT INTO dataset_records (dataset_id, position, record_id, data) SELECT 'ds_m', g, 'r' || g, '{}' FROM generate_series(0, 2) g`,
      );
      await c.query(
        `INSERT INTO batches (id, flow, dataset_id, status, stop_reason, total, succeeded, failed, skipped, cancelled, cost_spent, max_cost,
                              error_policy, error_threshold_rate, error_threshold_min_finished)
         VALUES ('b_thr', 'echo', 'ds_m', 'failed', 'error_threshold', 100, 9, 14, 77, 0, 0, NULL, 'continue', 0.2, 10),
                ('b_can', 'echo', 'ds_m', 'cancelled', 'cancelled', 2000, 700, 60, 0, 1240, 0, NULL, 'continue', NULL, NULL),
                ('b_bud', 'echo', 'ds_m', 'failed', 'budget_exhausted', 50, 6, 0, 44, 0, 6.5, 5, 'continue', NULL, NULL),
                ('b_pol', 'echo', 'ds_m', 'failed', 'error_policy', 3, 1, 1, 1, 0, 0, NULL, 'stop', NULL, NULL)`,
      );
      await c.query(
        `INSERT INTO jobs (batch_id, record_id, ordinal, position, status, attempts, error_code, error_message, finished_at)
         VALUES ('b_pol', 'r0', 0, 0, 'succeeded', 1, NULL, NULL, now() - interval '2 seconds'),
                ('b_pol', 'r1', 1, 1, 'failed', 1, 'boom', 'it broke', now() - interval '1 second'),
                ('b_pol', 'r2', 2, 2, 'skipped', 0, 'batch_stopped', 'batch stopped: error_policy', now())`,
      );
    } finally {
      await c.end();
    }
    await migrate(db().url);
    const c2 = new pg.Client({ connectionString: db().url });
    await c2.connect();
    const stored = await c2.query<{ id: string; stop_detail: { reason: string } | null }>(`SELECT id, stop_detail FROM batches ORDER BY id`);
    await c2.end();
    expect(stored.rows.map((r) => [r.id, r.stop_detail?.reason])).toEqual([
      ["b_bud", "budget_exhausted"],
      ["b_can", "cancelled"],
      ["b_pol", "error_policy"],
      ["b_thr", "error_threshold"],
    ]);

    expect(toBatchJson(await getBatch("b_thr")).outcome).toEqual({
      kind: "stopped",
      processed: 23,
      total: 100,
      percent: 23,
      stop: { reason: "error_threshold", failed: 14, finished: 23, rate: 0.6087, threshold: 0.2, min_finished: 10 },
    });
    expect(toBatchJson(await getBatch("b_can")).outcome).toEqual({ kind: "cancelled_at", processed: 760, total: 2000, percent: 38 });
    expect(toBatchJson(await getBatch("b_bud")).outcome).toMatchObject({ kind: "stopped", stop: { reason: "budget_exhausted", spent: 6.5, max_cost: 5 } });
    expect(toBatchJson(await getBatch("b_pol")).outcome).toMatchObject({
      kind: "stopped",
      stop: { reason: "error_policy", failed: 1, record_id: "r1", error: { code: "boom", message: "it broke" } },
    });
  });
});
