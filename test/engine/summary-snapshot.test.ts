// A running batch's summary: the batch it answers with (its counters) comes from the same read-only
// snapshot as the figures (counts), so the two agree even when a job and the batch's counters change
// while the summary is being made. The change is made deterministically, by a hook that runs in the
// gap where it could land: after the summary's first read of the batch (its cache stamp), before the
// snapshot opens.
import { describe, expect, it, vi } from "vitest";

const hook = vi.hoisted(() => ({ beforeSnapshot: null as null | (() => Promise<void>) }));
vi.mock("@/lib/db/tx", async (importOriginal) => {
  const tx = await importOriginal<typeof import("@/lib/db/tx")>();
  return {
    ...tx,
    inReadOnlySnapshot: async <T>(fn: (client: import("pg").PoolClient) => Promise<T>): Promise<T> => {
      const run = hook.beforeSnapshot;
      hook.beforeSnapshot = null;
      await run?.();
      return tx.inReadOnlySnapshot(fn);
    },
  };
});

const { getPool } = await import("@/lib/db/client");
const { createBatch } = await import("@/lib/engine");
const { getBatchSummary } = await import("@/lib/engine/summary");
const { useTestDatabase } = await import("../helpers/db");

useTestDatabase();

describe("a running batch's summary", () => {
  it("answers with the batch as it stood in the snapshot its counts come from", async () => {
    const batch = await createBatch({ flow: "echo", source: { kind: "records", records: [{ id: "a" }, { id: "b" }], recordIdField: "id" } });
    hook.beforeSnapshot = async () => {
      // a job finishes, and the batch's counters move with it, in one transaction
      const client = await getPool().connect();
      try {
        await client.query("BEGIN");
        await client.query(`UPDATE jobs SET status = 'succeeded', started_at = now(), finished_at = now() WHERE batch_id = $1 AND record_id = 'a'`, [batch.id]);
        await client.query(`UPDATE batches SET pending = pending - 1, succeeded = succeeded + 1, updated_at = now() WHERE id = $1`, [batch.id]);
        await client.query("COMMIT");
      } finally {
        client.release();
      }
    };
    const summary = await getBatchSummary(batch.id);
    expect(hook.beforeSnapshot).toBeNull(); // the change was made, between the two reads
    expect(summary.counts).toMatchObject({ total: 2, pending: 1, succeeded: 1 });
    expect({ pending: summary.batch.pending, succeeded: summary.batch.succeeded }).toEqual({ pending: summary.counts.pending, succeeded: summary.counts.succeeded });
  });
});
