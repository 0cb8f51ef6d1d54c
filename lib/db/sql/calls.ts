// The open calls of chunked batches (batch_calls: per call, how many of its jobs still run in it).
// The worker cycle (lib/db/sql/cycle.sql) opens them at the claim and counts its outcomes out; every
// other statement that takes a job of a call out of running counts it out here, holding the job's
// batch row first (the lock order: batch rows, job rows, then batch_calls rows). Counting out is
// relative (open_jobs - n on the row as it is when locked), so no count is lost whatever committed
// since the statement's snapshot; a row at 0 is deleted by a later statement (closedCallsGone here,
// the next cycle on its batch, the batch's finish): no job runs in it, and none will (a job is
// claimed into a new call).
import type { Queryable } from "./queryable";

/**
 * SQL for a data-modifying CTE: the jobs listed by `left` (what follows FROM in a query of batch_id and
 * call_id, WHERE included: one row per job taken out of running; a NULL call_id is no call) no longer
 * run in their calls.
 */
export function callsLeftSql(left: string): string {
  return `UPDATE batch_calls call SET open_jobs = call.open_jobs - left_calls.jobs
       FROM (SELECT job.batch_id, job.call_id, count(*)::int AS jobs FROM (SELECT batch_id, call_id FROM ${left}) job
             WHERE job.call_id IS NOT NULL GROUP BY job.batch_id, job.call_id ORDER BY job.batch_id, job.call_id) left_calls
       WHERE call.batch_id = left_calls.batch_id AND call.call_id = left_calls.call_id`;
}

/** Counts jobs taken out of running out of their calls (per job, its batch and call; null: none), then deletes the calls at 0. */
export async function countOutOfCalls(db: Queryable, jobs: readonly { batch_id: string; call_id: number | null }[]): Promise<void> {
  const inCalls = jobs.filter((j) => j.call_id !== null);
  if (inCalls.length === 0) return;
  await db.query(
    `WITH counted AS (${callsLeftSql(`unnest($1::text[], $2::int[]) AS job(batch_id, call_id)`)}) SELECT 1`,
    [inCalls.map((j) => j.batch_id), inCalls.map((j) => j.call_id)],
  );
  await closedCallsGone(db, [...new Set(inCalls.map((j) => j.batch_id))]);
}

/** Deletes the batches' calls no job runs in any more (open_jobs at 0), after a statement counted jobs out of them. */
export async function closedCallsGone(db: Queryable, batchIds: readonly string[]): Promise<void> {
  await db.query(`DELETE FROM batch_calls WHERE batch_id = ANY($1::text[]) AND open_jobs <= 0`, [batchIds]);
}
