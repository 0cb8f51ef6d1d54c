// Upgrading a database that has work in flight across the migration that made job updates HOT
// (20261124000000_hot_job_updates): pending jobs must stay claimable, running ones must still be
// found by the lease sweep, and the batch must finish with every job run once more at most.
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { migrate } from "@/lib/db/migrate";
import { getBatch, getJob } from "@/lib/engine";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { waitFor } from "@/test/support/wait";
import { useDatabaseBefore } from "../helpers/db";
import { expectCountersExact } from "./helpers";

const HOT_MIGRATION = "20261124000000_hot_job_updates";

describe("upgrading across the HOT-updates migration with jobs in flight", () => {
  const db = useDatabaseBefore(HOT_MIGRATION);
  let worker: WorkerHandle | null = null;

  afterAll(async () => {
    await worker?.stop(500);
  });

  it("keeps pending jobs claimable and running ones recoverable, and the batch finishes", async () => {
    const c = new pg.Client({ connectionString: db().url });
    await c.connect();
    try {
      // the old schema's state: 6 jobs, 2 succeeded, 1 running under a live-looking worker row whose
      // lease ran out, 1 running under a worker with no row, 2 pending (one of them a retry)
      await c.query(`INSERT INTO datasets (id, name, kind, format, record_count) VALUES ('ds_up', 'inline:b_up', 'inline', 'inline', 6)`);
      await c.query(
        `INSERT INTO dataset_records (dataset_id, position, record_id, data)
         SELECT 'ds_up', g, 'r' || g, jsonb_build_object('n', g) FROM generate_series(0, 5) g`,
      );
      await c.query(
        `INSERT INTO batches (id, flow, parameters, dataset_id, status, concurrency, max_retries, total, pending, running, succeeded, started_at)
         VALUES ('b_up', 'echo', '{"delay_ms":0}', 'ds_up', 'running', 4, 2, 6, 2, 2, 2, now())`,
      );
      await c.query(
        `INSERT INTO jobs (batch_id, record_id, ordinal, position, status, attempts, lease_owner, lease_expires_at, run_at, result, finished_at)
         VALUES ('b_up', 'r0', 0, 0, 'succeeded', 1, NULL, NULL, now(), '{"n":0}', now()),
                ('b_up', 'r1', 1, 1, 'succeeded', 1, NULL, NULL, now(), '{"n":1}', now()),
                ('b_up', 'r2', 2, 2, 'running', 1, 'wrk_old', now() - interval '1 minute', now(), NULL, NULL),
                ('b_up', 'r3', 3, 3, 'running', 1, 'wrk_gone', now() + interval '1 hour', now(), NULL, NULL),
                ('b_up', 'r4', 4, 4, 'pending', 1, NULL, NULL, now(), NULL, NULL),
                ('b_up', 'r5', 5, 5, 'pending', 0, NULL, NULL, now(), NULL, NULL)`,
      );
      await c.query(
        `INSERT INTO workers (id, host, pid, mode, heartbeat_at) VALUES ('wrk_old', 'old-host', 1, 'standalone', now() - interval '1 minute')`,
      );

      await migrate(db().url);

      const requeued = await c.query<{ record_id: string }>(
        `SELECT j.record_id FROM requeued_jobs q JOIN jobs j ON j.id = q.job_id ORDER BY j.record_id`,
      );
      expect(requeued.rows.map((r) => r.record_id)).toEqual(["r3", "r4", "r5"]);
      const inFlight = await c.query<{ n: string[] }>(
        `SELECT ARRAY(SELECT j.record_id FROM unnest(w.in_flight) f(id) JOIN jobs j ON j.id = f.id) AS n FROM workers w WHERE w.id = 'wrk_old'`,
      );
      expect(inFlight.rows[0]!.n).toEqual(["r2"]);
      const cursor = await c.query<{ claim_cursor: number }>(`SELECT claim_cursor FROM batches WHERE id = 'b_up'`);
      expect(cursor.rows[0]!.claim_cursor).toBe(6);
    } finally {
      await c.end();
    }

    // a worker on the new code finishes the batch: r2 through the lease sweep, r3 to r5 from requeued_jobs
    worker = await startWorker({ mode: "standalone", concurrency: 4, maintenanceMs: 100, pollMs: 50, log: () => {} });
    const done = await waitFor("the upgraded batch to finish", async () => {
      const b = await getBatch("b_up");
      return b.status === "completed" ? b : null;
    });
    expect(done).toMatchObject({ total: 6, succeeded: 6, failed: 0, pending: 0, running: 0 });
    expect((await getJob("b_up", "r2")).error).toBeNull();
    // the run lost with the old worker is an interruption, not an attempt
    expect(await getJob("b_up", "r2")).toMatchObject({ attempts: 1, interruptions: 1 });
    expect((await getJob("b_up", "r0")).attempts).toBe(1);
    await expectCountersExact("b_up");
  });
});
