// A worker running chunked calls at the upgrade that moves a chunked batch's running jobs off the
// worker's in_flight list into their call's row (batch_calls.worker_id, job_ids): each open call gets
// its worker and the ids of its jobs still running, the worker's list keeps only its non-chunked jobs,
// and if that worker then dies the lease sweep still finds every one of its running jobs, once.
import { describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { migrate } from "@/lib/db/migrate";
import { expireLeases } from "@/lib/engine/maintenance";
import { useDatabaseBefore } from "../helpers/db";
import { registerTestFlows } from "./fixtures/flows";
import { expectCountersExact, insertChunkedBatchWithCalls, lapseLeasesOf } from "./helpers";

const MIGRATION = "20270103300000_batch_call_owners";

registerTestFlows();

describe("the batch_call_owners migration on a worker with chunked calls and a plain job in flight", () => {
  const db = useDatabaseBefore(MIGRATION);

  it("names each open call's worker and jobs, keeps the plain job alone in in_flight; the sweep then recovers every running job once", async () => {
    // the test database as the release before this migration left it (DATABASE_URL points at it)
    const c = getPool();
    // concurrency 3, chunk_size 10: call 0 all ended (its row at 0), call 1 with 3 jobs still running, call 2 with 10
    await insertChunkedBatchWithCalls(
      c,
      40,
      `INSERT INTO batches (id, flow, dataset_id, status, total, pending, running, succeeded, concurrency, chunk_size, claim_cursor, next_call_id, started_at)
       VALUES ('b_chunk', 't-chunk', 'ds_c', 'running', 40, 10, 13, 17, 3, 10, 30, 3, now())`,
    );
    await c.query(`INSERT INTO batch_calls (batch_id, call_id, open_jobs) VALUES ('b_chunk', 0, 0), ('b_chunk', 1, 3), ('b_chunk', 2, 10)`);
    // a non-chunked batch beside it, one job running under the same worker
    await c.query(`INSERT INTO datasets (id, name, kind, format, record_count) VALUES ('ds_p', 'inline:p', 'inline', 'inline', 1)`);
    await c.query(`INSERT INTO dataset_records (dataset_id, position, record_id, data) VALUES ('ds_p', 0, 'p0', '{}')`);
    await c.query(
      `INSERT INTO batches (id, flow, dataset_id, status, total, running, concurrency, claim_cursor, started_at)
       VALUES ('b_plain', 't-echo', 'ds_p', 'running', 1, 1, 2, 1, now())`,
    );
    const plain = await c.query<{ id: string }>(
      `INSERT INTO jobs (batch_id, record_id, ordinal, position, status, attempts, lease_owner, lease_expires_at, started_at)
       VALUES ('b_plain', 'p0', 0, 0, 'running', 1, 'wrk_old', now() + interval '1 hour', now()) RETURNING id`,
    );
    const plainJob = Number(plain.rows[0]!.id);
    const ids = await c.query<{ id: string }>(`SELECT id FROM jobs WHERE lease_owner = 'wrk_old' AND status = 'running' ORDER BY id`);
    const running = ids.rows.map((r) => Number(r.id));
    expect(running).toHaveLength(14);
    // the worker's list as the cycle kept it before: every job it runs, the plain one last
    await c.query(
      `INSERT INTO workers (id, host, pid, mode, lease_until, in_flight)
       VALUES ('wrk_old', 'test', 1, 'standalone', now() + interval '1 hour',
               ARRAY(SELECT id FROM jobs WHERE lease_owner = 'wrk_old' AND batch_id = 'b_chunk' ORDER BY id) || $1::bigint)`,
      [plainJob],
    );
    await migrate(db().url);
    const { rows } = await c.query<{ call_id: number; open_jobs: number; worker_id: string | null; job_ids: string[] }>(
      `SELECT call_id, open_jobs, worker_id, job_ids FROM batch_calls WHERE batch_id = 'b_chunk' ORDER BY call_id`,
    );
    const chunkIds = await c.query<{ call_id: number; ids: string[] }>(
      `SELECT call_id, array_agg(id ORDER BY id) AS ids FROM jobs WHERE batch_id = 'b_chunk' AND status = 'running' GROUP BY call_id ORDER BY call_id`,
    );
    expect(rows.map((r) => ({ ...r, job_ids: r.job_ids.map(Number) }))).toEqual([
      { call_id: 0, open_jobs: 0, worker_id: null, job_ids: [] },
      { call_id: 1, open_jobs: 3, worker_id: "wrk_old", job_ids: chunkIds.rows[0]!.ids.map(Number) },
      { call_id: 2, open_jobs: 10, worker_id: "wrk_old", job_ids: chunkIds.rows[1]!.ids.map(Number) },
    ]);
    const worker = await c.query<{ in_flight: string[] }>(`SELECT in_flight FROM workers WHERE id = 'wrk_old'`);
    expect(worker.rows[0]!.in_flight.map(Number)).toEqual([plainJob]);
    // the worker dies: every job it ran is found and put back once, a call whole in one round (limit 2:
    // the plain job and call 1's 3, then call 2's 10 past the limit)
    await lapseLeasesOf("wrk_old");
    expect(await expireLeases(2)).toBe(4);
    expect(await expireLeases(2)).toBe(10);
    expect(await expireLeases(2)).toBe(0);
    const after = await getPool().query<{ status: string; interruptions: number; attempts: number }>(
      `SELECT status::text, interruptions, attempts FROM jobs WHERE id = ANY($1::bigint[])`,
      [running],
    );
    expect(after.rows).toHaveLength(14);
    expect(after.rows.every((r) => r.status === "pending" && r.interruptions === 1 && r.attempts === 0)).toBe(true);
    const open = await getPool().query(`SELECT call_id FROM batch_calls WHERE batch_id = 'b_chunk' AND open_jobs <> 0`);
    expect(open.rows).toEqual([]);
    await expectCountersExact("b_chunk");
    await expectCountersExact("b_plain");
  });
});
