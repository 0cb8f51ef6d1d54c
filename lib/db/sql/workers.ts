// A worker process's own rows (lib/engine/workers.ts). SQL because every lease is on the database's
// clock (now() + the lease), the heartbeat is one statement that renews the held jobs' leases and the
// worker's own row together (a prepared statement, every few seconds per worker), and the stop keeps
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

/**
 * Renews the leases of `jobIds` still held by `workerId` and the worker's own lease with its counts,
 * and drops from its in_flight the ids no longer its own. Returns the ids still held.
 */
export async function heartbeat(
  db: Queryable,
  workerId: string,
  jobIds: readonly number[],
  leaseMs: number,
  counts: { running: number; processed: number; failed: number },
): Promise<{ id: number }[]> {
  const { rows } = await db.query<{ id: number }>({
    name: "batchboard_heartbeat",
    text: `WITH held AS (
             UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $3::float8 / 1000)
             WHERE id = ANY($1::bigint[]) AND lease_owner = $2 AND status = 'running' RETURNING id),
           me AS (
             UPDATE workers SET heartbeat_at = now(), lease_until = now() + make_interval(secs => $3::float8 / 1000),
               running = $4, processed = $5, failed = $6,
               in_flight = ARRAY(SELECT unnest(in_flight) EXCEPT (SELECT unnest($1::bigint[]) EXCEPT SELECT id FROM held))
             WHERE id = $2)
           SELECT id FROM held`,
    values: [jobIds, workerId, leaseMs, counts.running, counts.processed, counts.failed],
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
