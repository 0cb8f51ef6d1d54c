// Job transitions and the batch counters they move (lib/engine/transitions.ts), in the caller's pg
// transaction. SQL because the counters move in the same statements' transaction as the cycle's
// (lib/db/sql/cycle.sql, which keeps its own counters stage: docs/decisions/cycle-counters-function.md):
// every statement that moves jobs returns its moves (CounterMove: per batch, jobs from one counter
// to another, counters as the SQL function job_counter names them), and applyCounterMoves turns
// them into counter changes with the SQL function batch_counter_moves (both in
// prisma/migrations/20270103200000_batch_counter_moves), in one UPDATE for many batches (rows in id
// order: the lock order). Jobs move in set-based statements that lock them (FOR UPDATE) after their
// batch, and the finish and stop conditions are expressions over the counters of the row being
// updated.
import type { BatchStatus } from "@/lib/contract/statuses";
import { callsLeftSql, closedCallsGone } from "./calls";
import { countedAs } from "./jobs";
import type { Queryable } from "./queryable";

export interface BatchState {
  id: string;
  status: BatchStatus;
  pending: number;
  running: number;
  reserved: number;
  waiting_input: number;
  waiting_provider: number;
  succeeded: number;
  failed: number;
  cost_spent: number;
  max_cost: number | null;
  error_policy: "continue" | "stop";
  error_threshold_rate: number | null;
  error_threshold_min_finished: number | null;
  stop_reason: string | null;
}

export const STATE_COLUMNS = `id, status, pending, running, reserved, waiting_input, waiting_provider, succeeded, failed, cost_spent, max_cost, error_policy,
  error_threshold_rate, error_threshold_min_finished, stop_reason`;

/**
 * Jobs of a batch that one statement moved from one counter to another (`jobs` of them; 1 when
 * absent): what every job-moving statement here returns, for applyCounterMoves. Counters as the SQL
 * function job_counter names them: a job status, with running split into running and reserved.
 */
export interface CounterMove {
  batch_id: string;
  from_counter: string;
  to_counter: string;
  jobs?: number;
}

/** A batch's state after applyCounterMoves, with the jobs that failed for good in those moves. */
export interface MovedBatchState extends BatchState {
  new_failures: number;
}

/**
 * Moves the batches' counters by `moves` in one statement (a prepared one: it runs in most
 * transitions), rows in id order, by batch_counter_moves. The batches'
 * new state.
 */
export async function applyCounterMoves(db: Queryable, moves: readonly CounterMove[]): Promise<MovedBatchState[]> {
  if (moves.length === 0) return [];
  const { rows } = await db.query<MovedBatchState>({
    name: "batchboard_counter_moves",
    text: `UPDATE batches b SET
       pending = b.pending + d.pending, running = b.running + d.running, reserved = b.reserved + d.reserved,
       waiting_input = b.waiting_input + d.waiting_input, waiting_provider = b.waiting_provider + d.waiting_provider,
       succeeded = b.succeeded + d.succeeded, failed = b.failed + d.failed, cancelled = b.cancelled + d.cancelled,
       skipped = b.skipped + d.skipped, cost_spent = b.cost_spent + d.cost, updated_at = now()
     FROM batch_counter_moves($1::text[], $2::text[], $3::text[], $4::int[], NULL) d
     WHERE b.id = d.batch_id
     RETURNING ${STATE_COLUMNS.split(",").map((c) => `b.${c.trim()}`).join(", ")}, d.new_failures`,
    values: [moves.map((m) => m.batch_id), moves.map((m) => m.from_counter), moves.map((m) => m.to_counter), moves.map((m) => m.jobs ?? 1)],
  });
  return rows;
}

/** Ends the batches of `ids` that have nothing pending, running or waiting: completed, or failed when stopped. */
export async function finishBatchesIfDone<S extends string>(db: Queryable, ids: string[]): Promise<{ id: string; status: S }[]> {
  const { rows } = await db.query<{ id: string; status: S }>(
    `WITH done AS (
       UPDATE batches SET
         status = (CASE WHEN stop_reason IS NULL THEN 'completed' ELSE 'failed' END)::batch_status,
         completed_at = now(), updated_at = now(),
         webhook_state = CASE WHEN webhook_url IS NOT NULL THEN 'pending' END, webhook_next_at = now()
       WHERE id = ANY($1::text[]) AND status IN ('pending', 'running', 'paused')
         AND pending = 0 AND running = 0 AND reserved = 0 AND waiting_input = 0 AND waiting_provider = 0
       RETURNING id, status),
     -- nothing runs: a chunked batch's calls (all at 0) go
     calls AS (DELETE FROM batch_calls WHERE batch_id IN (SELECT id FROM done))
     SELECT id, status FROM done`,
    [ids],
  );
  return rows;
}

/**
 * Moves a batch's jobs counted in `from` to `to` (locked, leases dropped, finished now, with `error`),
 * running ones counted out of their calls (the caller holds the batch row); the counter moves.
 */
export async function moveJobsOfBatch(
  db: Queryable,
  batchId: string,
  from: string[],
  to: string,
  error: { code: string; message: string } | null,
): Promise<Required<CounterMove>[]> {
  const { rows } = await db.query<Required<CounterMove>>(
    `WITH t AS (SELECT id, ${countedAs("jobs")} AS old FROM jobs
                WHERE batch_id = $1 AND ${countedAs("jobs")} = ANY($2::text[]) FOR UPDATE),
     u AS (
       UPDATE jobs j SET status = $3::job_status, lease_owner = NULL, lease_expires_at = NULL,
         finished_at = now(), duration_ms = CASE WHEN t.old = 'running' THEN (extract(epoch FROM now() - j.started_at) * 1000)::int ELSE j.duration_ms END,
         error_code = COALESCE($4, j.error_code), error_message = COALESCE($5, j.error_message),
         error_retryable = CASE WHEN $4::text IS NULL THEN j.error_retryable ELSE false END
       FROM t WHERE j.id = t.id RETURNING t.old, ${countedAs("j")} AS to_counter, j.batch_id, j.call_id),
     calls AS (${callsLeftSql(`u WHERE u.old IN ('running', 'reserved')`)})
     SELECT batch_id, old AS from_counter, to_counter, count(*)::int AS jobs FROM u GROUP BY batch_id, old, to_counter`,
    [batchId, from, to, error?.code ?? null, error?.message ?? null],
  );
  if (rows.some((r) => r.from_counter === "running" || r.from_counter === "reserved")) await closedCallsGone(db, [batchId]);
  return rows;
}

/** Drops a batch's requeue entries (its pending jobs moved away). */
export async function deleteRequeuedOfBatch(db: Queryable, batchId: string): Promise<void> {
  await db.query(`DELETE FROM requeued_jobs WHERE batch_id = $1`, [batchId]);
}

/** The batch's latest failed job (a walk of its jobs: no index on status, so job updates stay HOT). */
export async function latestFailure(db: Queryable, batchId: string): Promise<{ record_id: string; error_code: string | null; error_message: string | null } | undefined> {
  const { rows } = await db.query<{ record_id: string; error_code: string | null; error_message: string | null }>(
    `SELECT record_id, error_code, error_message FROM jobs WHERE batch_id = $1 AND status = 'failed'
     ORDER BY finished_at DESC NULLS LAST, id DESC LIMIT 1`,
    [batchId],
  );
  return rows[0];
}

/** Records the stop (its reason and detail); failed at once unless a budget stop leaves running jobs to finish. The status now. */
export async function markBatchStopped<S extends string>(db: Queryable, batchId: string, reason: string, detail: unknown): Promise<S> {
  const { rows } = await db.query<{ status: S }>(
    `UPDATE batches SET stop_reason = $2, stop_detail = $3::jsonb, updated_at = now(),
       status = (CASE WHEN $2 = 'budget_exhausted' AND running > 0 THEN status ELSE 'failed' END)::batch_status,
       completed_at = CASE WHEN $2 = 'budget_exhausted' AND running > 0 THEN completed_at ELSE now() END,
       webhook_state = CASE WHEN ($2 <> 'budget_exhausted' OR running = 0) AND webhook_url IS NOT NULL THEN 'pending' ELSE webhook_state END,
       webhook_next_at = now()
     WHERE id = $1 RETURNING status`,
    [batchId, reason, JSON.stringify(detail)],
  );
  return rows[0]!.status;
}

/** Parked jobs in `from` among `jobIds` for which `ready` (SQL over the job row `j`) holds go back to pending, requeued; the counter moves. */
export async function wakeParkedJobs(db: Queryable, jobIds: readonly number[], from: string, ready: string): Promise<Required<CounterMove>[]> {
  const { rows } = await db.query<Required<CounterMove>>(
    `WITH woken AS (
       UPDATE jobs j SET status = 'pending', run_at = now()
       WHERE j.id = ANY($1::bigint[]) AND j.status = $2::job_status AND ${ready}
       RETURNING j.id, j.batch_id, j.run_at, ${countedAs("j")} AS to_counter),
     requeue AS (
       INSERT INTO requeued_jobs (job_id, batch_id, run_at) SELECT id, batch_id, run_at FROM woken ORDER BY id
       ON CONFLICT (job_id) DO UPDATE SET run_at = excluded.run_at)
     -- a parked job's counter is its status
     SELECT batch_id, $2::text AS from_counter, to_counter, count(*)::int AS jobs FROM woken GROUP BY batch_id, to_counter`,
    [jobIds, from],
  );
  return rows;
}

/** Locks the batches of `ids` in id order (the lock order) and reads their state again. */
export async function lockBatchStates(db: Queryable, ids: string[]): Promise<BatchState[]> {
  const { rows } = await db.query<BatchState>(`SELECT ${STATE_COLUMNS} FROM batches WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`, [ids]);
  return rows;
}
