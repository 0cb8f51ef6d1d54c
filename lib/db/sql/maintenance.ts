// Periodic work any worker may do (lib/engine/maintenance.ts), safe from several processes at once.
// SQL because each round takes its rows with FOR UPDATE SKIP LOCKED (a second sweeper skips them),
// times are on the database's clock, the lease sweep is one statement over the lapsed workers'
// in_flight arrays and the job ids of their open calls whose lease lapsed (batch_calls, a chunked
// batch's), unnested, that moves the jobs, their requeue entries and their logs together, and
// the counters move in the same transaction as the cycle's.
import type { Batch as BatchModel } from "@/lib/generated/prisma/client";
import type { RowOf } from "../rows";
import type { Queryable } from "./queryable";
import type { CounterMove } from "./transitions";

/** Locks the workers (not `self`) whose own lease ran out and that hold jobs (in in_flight, or in an open call); their ids. */
export async function lockLapsedWorkers(db: Queryable, self: string | null): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM workers w
       WHERE (cardinality(in_flight) > 0 OR EXISTS (SELECT 1 FROM batch_calls call WHERE call.worker_id = w.id AND call.open_jobs > 0))
         AND (lease_until IS NULL OR lease_until < now())
         AND id IS DISTINCT FROM $1
       ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED`,
    [self],
  );
  return rows.map((w) => w.id);
}

/**
 * The running jobs of those workers whose lease expired: pending again without the lost attempt (a
 * started run counts an interruption, and fails `interrupted` past the batch's max_interruptions); a
 * reservation goes back with no count at all. Each job's batch, new status, whether it was only
 * reserved, its call (a chunked batch's: the caller counts it out of it once it holds the batch rows),
 * and its counter move.
 *
 * How much one call takes: up to `limit` of the jobs in the workers' in_flight lists (non-chunked
 * batches), then their open calls whose lease lapsed, whole, in (batch, call) order, while the jobs
 * counted so far (those jobs, then the calls' open_jobs) stay under `limit`: at least one call when the
 * in_flight jobs left room, so a call of more than `limit` jobs comes back in one transaction, and
 * a transaction reads only the calls it takes (not every held id to keep `limit` of them). So the
 * count returned can pass `limit` (by less than one call), and can be under it while more calls wait.
 */
export async function expireLapsedLeases<S extends string>(
  db: Queryable,
  workerIds: string[],
  limit: number,
): Promise<({ batch_id: string; status: S; reserved: boolean; call_id: number | null } & CounterMove)[]> {
  const { rows } = await db.query<{ batch_id: string; status: S; reserved: boolean; call_id: number | null } & CounterMove>(
      `WITH flight AS (
         -- through in_flight: non-chunked batches, the job's own lease
         SELECT j.id FROM workers w CROSS JOIN LATERAL unnest(w.in_flight) AS f(id) JOIN jobs j ON j.id = f.id
         WHERE w.id = ANY($2::text[])
           AND j.status = 'running' AND j.lease_owner = w.id AND j.call_id IS NULL AND j.lease_expires_at < now()
         ORDER BY j.id LIMIT $1 FOR UPDATE OF j SKIP LOCKED),
       held AS MATERIALIZED (
         -- through their open calls (chunked batches: the lease of the call the job runs in, which the
         -- heartbeat renews instead of the job's; a call with no lease of its own leaves it to its jobs'):
         -- only the calls that lapsed, whole, in order, while the jobs before each (open_jobs, the jobs
         -- still running in it) stay under the limit; their ids unnested here, apart from the locking
         -- read below (which would otherwise carry each call's whole job_ids along with every id)
         SELECT call.worker_id, call.call_id, call.lease_expires_at AS call_lease, f.id
         FROM (SELECT call.worker_id, call.batch_id, call.call_id, call.lease_expires_at,
                      sum(call.open_jobs) OVER (
                        ORDER BY call.lease_expires_at IS NULL, call.batch_id, call.call_id ROWS UNBOUNDED PRECEDING)
                      - call.open_jobs AS jobs_before
               FROM batch_calls call
               WHERE call.worker_id = ANY($2::text[]) AND call.open_jobs > 0
                 AND (call.lease_expires_at IS NULL OR call.lease_expires_at < now())) taken
         JOIN batch_calls call ON call.batch_id = taken.batch_id AND call.call_id = taken.call_id
         CROSS JOIN LATERAL unnest(call.job_ids) AS f(id)
         WHERE (SELECT count(*) FROM flight) + taken.jobs_before < $1),
       in_calls AS (
         -- a job listed by an older call it left is judged by its current one alone
         SELECT j.id FROM held JOIN jobs j ON j.id = held.id
         WHERE j.status = 'running' AND j.lease_owner = held.worker_id
           AND j.call_id = held.call_id AND COALESCE(held.call_lease, j.lease_expires_at) < now()
         ORDER BY j.id FOR UPDATE OF j SKIP LOCKED),
       due AS (SELECT id FROM flight UNION SELECT id FROM in_calls),
       lost AS (
         SELECT j.id, j.started_at IS NOT NULL AS started, j.interruptions + 1 > b.max_interruptions AS exhausted,
                j.interruptions + 1 AS n, b.max_interruptions AS bound
         FROM due JOIN jobs j ON j.id = due.id JOIN batches b ON b.id = j.batch_id),
       expired AS (
         UPDATE jobs j SET
           status = (CASE WHEN l.started AND l.exhausted THEN 'failed' ELSE 'pending' END)::job_status,
           attempts = j.attempts - 1,
           interruptions = CASE WHEN l.started THEN l.n ELSE j.interruptions END,
           lease_owner = NULL, lease_expires_at = NULL, run_at = now(),
           error_code = CASE WHEN l.started THEN 'interrupted' ELSE j.error_code END,
           error_message = CASE WHEN NOT l.started THEN j.error_message
             WHEN l.exhausted THEN 'interrupted ' || l.n || ' times: the worker running this record stopped before it finished each time (crash, kill -9, lost connection)'
             ELSE 'the worker running this attempt stopped before it finished (crash, kill -9, lost connection): it runs again' END,
           error_retryable = CASE WHEN l.started THEN NOT l.exhausted ELSE j.error_retryable END,
           finished_at = CASE WHEN l.started AND l.exhausted THEN now() END,
           logs = CASE WHEN l.started THEN COALESCE(j.logs, '[]'::jsonb) || jsonb_build_array(jsonb_build_object(
             'at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'level', 'warn',
             'message', 'interrupted: the worker running this attempt stopped renewing its lease (' ||
               CASE WHEN l.exhausted THEN 'interruption ' || l.n || ', past the ' || l.bound || ' the batch allows: the record fails)'
                    ELSE 'interruption ' || l.n || ' of at most ' || l.bound || ': it runs again)' END))
             ELSE j.logs END
         FROM lost l WHERE j.id = l.id
         RETURNING j.id, j.batch_id, j.status, j.run_at, NOT l.started AS reserved, j.call_id,
                   job_counter('running', l.started) AS from_counter, job_counter(j.status, j.started_at IS NOT NULL) AS to_counter),
       requeue AS (
         INSERT INTO requeued_jobs (job_id, batch_id, run_at)
         SELECT id, batch_id, run_at FROM expired WHERE status = 'pending' ORDER BY id
         ON CONFLICT (job_id) DO UPDATE SET run_at = excluded.run_at)
       SELECT batch_id, status, reserved, call_id, from_counter, to_counter FROM expired`,
    [limit, workerIds],
  );
  return rows;
}

/** The workers keep in in_flight only what still runs under them (claimed after their last heartbeat). */
export async function pruneInFlight(db: Queryable, workerIds: string[]): Promise<void> {
  await db.query(
    `UPDATE workers w SET in_flight = ARRAY(
         SELECT f.id FROM unnest(w.in_flight) AS f(id) JOIN jobs j ON j.id = f.id
         WHERE j.status = 'running' AND j.lease_owner = w.id)
       WHERE w.id = ANY($1::text[])`,
    [workerIds],
  );
}

/** Counts failures in this second's batch_metrics rows (the throughput series). */
export async function countFailedNow(db: Queryable, batchIds: string[], counts: number[]): Promise<void> {
  await db.query(
    `INSERT INTO batch_metrics (batch_id, bucket, failed)
         SELECT b, date_trunc('second', now()), n FROM unnest($1::text[], $2::int[]) AS t(b, n) ORDER BY b
         ON CONFLICT (batch_id, bucket) DO UPDATE SET failed = batch_metrics.failed + excluded.failed`,
    [batchIds, counts],
  );
}

/** Adds interruptions to the batches' counters (GET /api/metrics counts them per flow). */
export async function countInterruptions(db: Queryable, batchIds: string[], counts: number[]): Promise<void> {
  await db.query(
    `UPDATE batches b SET interruptions = b.interruptions + t.n FROM unnest($1::text[], $2::int[]) AS t(id, n) WHERE b.id = t.id`,
    [batchIds, counts],
  );
}

/** A batch whose completion webhook is due, as delivered. */
/** A batch whose webhook is due: the columns its summary is made of (lib/engine/maintenance.ts webhookBody). */
export type DueWebhookRow = Pick<
  RowOf<BatchModel>,
  | "id" | "name" | "flow" | "status" | "stop_reason" | "webhook_attempts" | "total" | "pending" | "running" | "waiting_input"
  | "succeeded" | "failed" | "cancelled" | "skipped" | "cost_spent" | "max_cost" | "metadata" | "created_at" | "started_at" | "completed_at"
> & { webhook_url: string };

/** Claims up to `limit` due webhooks: their next try is pushed a minute on, so another worker does not deliver them meanwhile. */
export async function claimDueWebhooks(db: Queryable, limit: number): Promise<DueWebhookRow[]> {
  const { rows } = await db.query<DueWebhookRow>(
    `UPDATE batches b SET webhook_next_at = now() + interval '60 seconds'
     FROM (SELECT id FROM batches WHERE webhook_state = 'pending' AND webhook_next_at <= now()
           ORDER BY webhook_next_at LIMIT $1 FOR UPDATE SKIP LOCKED) due
     WHERE b.id = due.id
     RETURNING b.*`,
    [limit],
  );
  return rows;
}

/**
 * The stored webhook secret, storing `fresh` first if there is none: the first caller's stays (a
 * concurrent second insert is skipped) and both read the one kept. SQL, not Prisma Client: the
 * worker's maintenance delivers webhooks, and loading Prisma's engine there doubled the worker's RSS
 * (108 -> 220 MB).
 */
export async function storedWebhookSecret(db: Queryable, fresh: string): Promise<string> {
  await db.query(`INSERT INTO settings (key, value) VALUES ('webhook_secret', $1) ON CONFLICT (key) DO NOTHING`, [fresh]);
  const { rows } = await db.query<{ value: string }>(`SELECT value FROM settings WHERE key = 'webhook_secret'`);
  return rows[0]!.value;
}

export async function markWebhookDelivered(db: Queryable, batchId: string, attempt: number): Promise<void> {
  await db.query(
    `UPDATE batches SET webhook_state = 'delivered', webhook_attempts = $2, webhook_delivered_at = now(),
             webhook_next_at = NULL, webhook_last_error = NULL WHERE id = $1 AND webhook_state = 'pending'`,
    [batchId, attempt],
  );
}

/** A failed delivery: tried again `backoffMs` from now while `state` is pending, given up when failed. */
export async function markWebhookFailed(db: Queryable, batchId: string, attempt: number, state: "failed" | "pending", error: string, backoffMs: number): Promise<void> {
  await db.query(
    `UPDATE batches SET webhook_state = $3, webhook_attempts = $2, webhook_last_error = $4,
             webhook_next_at = CASE WHEN $3 = 'failed' THEN NULL ELSE now() + make_interval(secs => $5::float8 / 1000) END
           WHERE id = $1 AND webhook_state = 'pending'`,
    [batchId, attempt, state, error, backoffMs],
  );
}

/** Deletes up to `limit` finished batches past their keep (their ttl_seconds, else `days`), leaving their final status on adapter_jobs. */
export async function deleteExpiredBatches(db: Queryable, days: number, limit: number): Promise<{ id: string; dataset_id: string | null }[]> {
  const { rows } = await db.query<{ id: string; dataset_id: string | null }>(
    `WITH gone AS (
           DELETE FROM batches WHERE id IN (
             SELECT id FROM batches WHERE status IN ('completed', 'failed', 'cancelled')
               AND CASE WHEN ttl_seconds IS NOT NULL THEN completed_at + make_interval(secs => ttl_seconds) <= now()
                        ELSE $1 > 0 AND completed_at < now() - make_interval(days => $1) END
             ORDER BY completed_at LIMIT $2 FOR UPDATE SKIP LOCKED)
           RETURNING id, dataset_id, status),
         kept AS (UPDATE adapter_jobs a SET final_status = gone.status::text FROM gone WHERE a.batch_id = gone.id)
         SELECT id, dataset_id FROM gone`,
    [days, limit],
  );
  return rows;
}

/** Deletes inline datasets older than `minutes` that no batch uses; how many. */
export async function deleteOrphanInlineDatasets(db: Queryable, minutes: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM datasets d WHERE d.kind = 'inline' AND d.created_at < now() - make_interval(mins => $1)
       AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.dataset_id = d.id)`,
    [minutes],
  );
  return rowCount ?? 0;
}

/** Deletes worker rows not heard from for a day whose in_flight is empty and that have no open call. */
export async function deleteGoneWorkers(db: Queryable): Promise<void> {
  await db.query(
    `DELETE FROM workers w WHERE heartbeat_at < now() - interval '1 day' AND cardinality(in_flight) = 0
       AND NOT EXISTS (SELECT 1 FROM batch_calls call WHERE call.worker_id = w.id AND call.open_jobs > 0)`,
  );
}
