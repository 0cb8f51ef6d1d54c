// A worker process's own rows (lib/engine/workers.ts). SQL because every lease is on the database's
// clock (now() + the lease), the heartbeat is one statement that renews the held jobs' leases (a
// chunked batch's through their calls' rows) and the worker's own row together (a prepared statement, every few seconds per worker), and the stop keeps
// in in_flight only the ids still running under the worker (an unnest joined with jobs).
import type { Queryable } from "./queryable";
import type { RowOf } from "../rows";
import type { Batch } from "@/lib/generated/prisma/client";

/** A worker as it registers (lib/engine/workers.ts registerWorker). */
export interface WorkerRegistration {
  id: string;
  host: string;
  pid: number;
  mode: string;
  version: string;
  concurrency: number;
  leaseMs: number;
}

export async function insertWorker(db: Queryable, w: WorkerRegistration): Promise<void> {
  await db.query(
    `INSERT INTO workers (id, host, pid, mode, version, concurrency, lease_until)
     VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7::float8 / 1000))`,
    [w.id, w.host, w.pid, w.mode, w.version, w.concurrency, w.leaseMs],
  );
}

/** A chunked batch's call a worker holds, with how many of its jobs the worker still holds in it. */
export interface HeldCall {
  batchId: string;
  callId: number;
  jobs: number;
}

/**
 * Renews the leases of `jobIds` (jobs in no call) still held by `workerId`, the leases of its `calls`
 * (a chunked batch's jobs are leased through their call's row: one row per call, whatever its
 * chunk_size), and the worker's own lease with its counts, and drops from its in_flight the ids no
 * longer its own. Returns what is still held: rows with an `id` and no call (a job of `jobIds`), rows
 * with a call and no `id` (a call whose running jobs are the `jobs` the worker counted: all still
 * its own), and rows with both (a call that counts otherwise, say a job of it cancelled alone: its
 * jobs still running under the worker). A call not returned holds nothing of the worker's any more.
 *
 * Lock order: the jobs, then the worker row (as before the call rows: the lease sweep holds a lapsed
 * worker's row while it counts jobs out of their calls), then the call rows.
 */
export async function heartbeat(
  db: Queryable,
  workerId: string,
  jobIds: readonly number[],
  calls: readonly HeldCall[],
  leaseMs: number,
  counts: { running: number; processed: number; failed: number },
): Promise<{ id: number | null; batch_id: string | null; call_id: number | null }[]> {
  const { rows } = await db.query<{ id: number | null; batch_id: string | null; call_id: number | null }>({
    name: "batchboard_heartbeat",
    text: `WITH held AS (
             UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $3::float8 / 1000)
             WHERE id = ANY($1::bigint[]) AND lease_owner = $2 AND status = 'running' RETURNING id),
           me AS (
             UPDATE workers SET heartbeat_at = now(), lease_until = now() + make_interval(secs => $3::float8 / 1000),
               running = $4, processed = $5, failed = $6,
               in_flight = ARRAY(SELECT unnest(in_flight) EXCEPT (SELECT unnest($1::bigint[]) EXCEPT SELECT id FROM held))
             WHERE id = $2 RETURNING id),
           calls AS (
             UPDATE batch_calls call SET lease_expires_at = now() + make_interval(secs => $3::float8 / 1000)
             FROM unnest($7::text[], $8::int[], $9::int[]) AS sent(batch_id, call_id, jobs)
             WHERE call.batch_id = sent.batch_id AND call.call_id = sent.call_id AND call.worker_id = $2 AND call.open_jobs > 0
               AND EXISTS (SELECT 1 FROM me)
             RETURNING call.batch_id, call.call_id, call.open_jobs = sent.jobs AS whole, call.job_ids)
           SELECT id, NULL::text AS batch_id, NULL::int AS call_id FROM held
           UNION ALL
           SELECT NULL, batch_id, call_id FROM calls WHERE whole
           UNION ALL
           SELECT job.id, call.batch_id, call.call_id FROM calls call JOIN jobs job ON job.id = ANY(call.job_ids)
           WHERE NOT call.whole AND job.batch_id = call.batch_id AND job.call_id = call.call_id
             AND job.status = 'running' AND job.lease_owner = $2`,
    values: [
      jobIds, workerId, leaseMs, counts.running, counts.processed, counts.failed,
      calls.map((c) => c.batchId), calls.map((c) => c.callId), calls.map((c) => c.jobs),
    ],
  });
  return rows;
}

/**
 * Marks the worker stopped, keeping in in_flight the jobs still running under it (a chunked batch's
 * are in their open calls' rows, batch_calls, which stay while a job runs in them).
 */
export async function markStopped(db: Queryable, workerId: string, counts: { processed: number; failed: number }): Promise<void> {
  await db.query(
    `UPDATE workers SET stopped_at = now(), heartbeat_at = now(), running = 0, processed = $2, failed = $3,
       in_flight = ARRAY(SELECT f.id FROM unnest(in_flight) AS f(id) JOIN jobs j ON j.id = f.id
                         WHERE j.status = 'running' AND j.lease_owner = $1)
     WHERE id = $1`,
    [workerId, counts.processed, counts.failed],
  );
}

/** What a worker reads of a batch to run its jobs: SQL, so a worker never loads Prisma Client's engine. */
export async function batchRunSettings(db: Queryable, batchId: string) {
  const { rows } = await db.query<Pick<RowOf<Batch>, "flow" | "parameters" | "interactive" | "max_retries" | "retry_backoff_ms" | "timeout_ms" | "rate_limit_key">>(
    `SELECT flow, parameters, interactive, max_retries, retry_backoff_ms, timeout_ms, rate_limit_key FROM batches WHERE id = $1`,
    [batchId],
  );
  return rows[0] ?? null;
}
