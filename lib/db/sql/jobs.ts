// Job statements that stay SQL (lib/engine/jobs.ts, lib/engine/bulk-jobs.ts): each row's one-line
// result preview is left(result::text, 120), which Prisma cannot give (it would fetch every result
// whole); a job is found by record id through the dataset's (dataset_id, record_id) index, as jobs has
// no index on record_id; `q` searches the record's data::text; the writes lock job rows (FOR UPDATE,
// after the batch's) and move the counters in the same transaction; and a job's attempts beside its
// prompts measured twice as slow through Prisma Client (bench/results/prisma-data-layer.md).
import type { JobStatus } from "@/lib/contract/statuses";
import type { Job as JobModel, JobAttempt as JobAttemptModel } from "@/lib/generated/prisma/client";
import type { RowOf } from "../rows";
import { batchExpiredSql } from "./batches";
import { callsLeftSql, closedCallsGone } from "./calls";
import type { Queryable } from "./queryable";
import type { CounterMove } from "./transitions";

/**
 * A jobs row as JOB_COLUMNS selects it, typed by the Prisma model; id is a number (lib/db/client.ts
 * parses int8 as one), and the result comes as its one-line preview.
 */
export type JobRow = Pick<RowOf<JobModel>, "batch_id" | "record_id" | "ordinal" | "position" | "status" | "attempts" | "interruptions" | "run_at" | "cost" | "cached_from" | "error_code" | "error_message" | "error_retryable" | "started_at" | "finished_at" | "duration_ms"> & {
  id: number;
  result_preview: string | null;
};

/** How much of a result's JSON a job row carries (the jobs table's one-line preview). */
export const RESULT_PREVIEW_CHARS = 120;

export const JOB_COLUMNS = `j.id, j.batch_id, j.record_id, j.ordinal, j.position, j.status, j.attempts, j.interruptions, j.run_at, j.cost, j.cached_from,
  j.error_code, j.error_message, j.error_retryable, j.started_at, j.finished_at, j.duration_ms,
  CASE WHEN length(j.result::text) > ${RESULT_PREVIEW_CHARS} THEN left(j.result::text, ${RESULT_PREVIEW_CHARS}) || '…' ELSE j.result::text END AS result_preview`;

/**
 * SQL: the counter a job row counts in (`j`: its alias), as the SQL function job_counter names it
 * (running splits into running and reserved: claimed ahead, not started).
 */
export const countedAs = (j: string) => `job_counter(${j}.status, ${j}.started_at IS NOT NULL)`;

/**
 * The condition on `jobs j` for the job of record `recordId` in batch `batchId` (SQL expressions,
 * e.g. "$1", "$2"). jobs has no index on record_id (each index in an order other than the run order
 * costs ingest ~0.5 s per 100,000 jobs): the id resolves to its position through the dataset's
 * unique (dataset_id, record_id) index, then to the job through the unique (batch_id, position)
 * one. A finished batch whose dataset was deleted has no records left to look in: its own jobs are
 * scanned instead (that subquery runs only then). The record_id check makes a wrong match impossible.
 */
function jobOfRecord(batchId: string, recordId: string): string {
  return `j.batch_id = ${batchId} AND j.record_id = ${recordId} AND j.position = (
    SELECT COALESCE(
      (SELECT r.position FROM dataset_records r WHERE r.dataset_id = rb.dataset_id AND r.record_id = ${recordId}),
      (SELECT rj.position FROM jobs rj WHERE rb.dataset_id IS NULL AND rj.batch_id = rb.id AND rj.record_id = ${recordId}))
    FROM batches rb WHERE rb.id = ${batchId})`;
}

/** Which jobs of a batch: in `status`, and whose record id or data contains the ILIKE `pattern` (escaped by the caller). */
export interface JobFilter {
  status?: JobStatus[];
  pattern?: string;
}

/** The jobs of a batch a filter selects, as SQL over `jobs j` (the jobs table's filter). */
function jobFilterSql(batchId: string, datasetId: string | null, f: JobFilter) {
  const params: unknown[] = [batchId];
  const where = ["j.batch_id = $1"];
  if (f.status?.length) {
    params.push(f.status);
    where.push(`j.status = ANY($${params.length}::job_status[])`);
  }
  if (f.pattern) {
    params.push(f.pattern, datasetId);
    // EXISTS, not a join: a join planned on statistics taken while the tables were small (a new
    // batch's rows not yet analyzed) became a nested loop re-reading every record of the dataset per
    // job, hours on 100,000 jobs; the subquery is one lookup or one hashed pass whatever the estimates
    const pattern = `$${params.length - 1}`;
    where.push(
      `(j.record_id ILIKE ${pattern} OR EXISTS (SELECT 1 FROM dataset_records r WHERE r.dataset_id = $${params.length} AND r.position = j.position AND r.data::text ILIKE ${pattern}))`,
    );
  }
  return { params, where };
}

/** A page of a batch's jobs: in run order after `ordinal`, or most recently finished first after (finished_at, id). */
export async function listJobRows(
  db: Queryable,
  batchId: string,
  datasetId: string | null,
  f: JobFilter,
  order: { sort: "ordinal"; after?: number } | { sort: "finished"; after?: { finishedAt: Date; id: number } },
  limit: number,
): Promise<JobRow[]> {
  const { params, where } = jobFilterSql(batchId, datasetId, f);
  if (order.sort === "finished") where.push("j.finished_at IS NOT NULL");
  if (order.sort === "ordinal" && order.after !== undefined) {
    params.push(order.after);
    where.push(`j.ordinal > $${params.length}`);
  } else if (order.sort === "finished" && order.after) {
    params.push(order.after.finishedAt, order.after.id);
    where.push(`(j.finished_at, j.id) < ($${params.length - 1}, $${params.length})`);
  }
  params.push(limit);
  const orderBy = order.sort === "ordinal" ? "j.ordinal" : "j.finished_at DESC, j.id DESC";
  const { rows } = await db.query<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM jobs j WHERE ${where.join(" AND ")} ORDER BY ${orderBy} LIMIT $${params.length}`,
    params,
  );
  return rows;
}

/** How many jobs a filter selects (finished ones only with `finishedOnly`). */
export async function countJobs(db: Queryable, batchId: string, datasetId: string | null, f: JobFilter, finishedOnly: boolean): Promise<number> {
  const { params, where } = jobFilterSql(batchId, datasetId, f);
  if (finishedOnly) where.push("j.finished_at IS NOT NULL");
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs j WHERE ${where.join(" AND ")}`, params);
  return rows[0]?.n ?? 0;
}

export type JobDetailRow = JobRow & { result: unknown; logs: unknown; record: unknown };

/** One job of a batch not expired, by record id, with its result, logs and record. */
export async function readJobOfRecord(db: Queryable, batchId: string, recordId: string): Promise<JobDetailRow | undefined> {
  const { rows } = await db.query<JobDetailRow>(
    `SELECT ${JOB_COLUMNS}, j.result, j.logs, r.data AS record
     FROM jobs j JOIN batches b ON b.id = j.batch_id
     LEFT JOIN dataset_records r ON r.dataset_id = b.dataset_id AND r.position = j.position
     WHERE ${jobOfRecord("$1", "$2")} AND NOT ${batchExpiredSql()}`,
    [batchId, recordId],
  );
  return rows[0];
}

/** A job_attempts row, typed by the Prisma model. */
export type AttemptRow = Pick<RowOf<JobAttemptModel>, "attempt" | "outcome" | "started_at" | "finished_at" | "duration_ms" | "cost" | "error_code" | "error_message">;

/** A job's attempts in order. SQL, not jobAttempt.findMany: beside the prompts query that took 2.45 / 10.39 ms (p50 / p95) against 1.25 / 2.15 ms (bench/results/prisma-data-layer.md). */
export async function jobAttempts(db: Queryable, batchId: string, jobId: number): Promise<AttemptRow[]> {
  const { rows } = await db.query<AttemptRow>(
    `SELECT attempt, outcome, started_at, finished_at, duration_ms, cost, error_code, error_message
     FROM job_attempts WHERE batch_id = $1 AND job_id = $2 ORDER BY attempt`,
    [batchId, jobId],
  );
  return rows;
}

/** The job of a record (no lock: its batch is locked and requeueing locks the job). */
export async function findJobOfRecord(db: Queryable, batchId: string, recordId: string): Promise<{ id: number; status: JobStatus } | undefined> {
  const { rows } = await db.query<{ id: number; status: JobStatus }>(`SELECT j.id, j.status FROM jobs j WHERE ${jobOfRecord("$1", "$2")}`, [batchId, recordId]);
  return rows[0];
}

/** Locks the job of a record. */
export async function lockJobOfRecord(db: Queryable, batchId: string, recordId: string): Promise<{ id: number; status: JobStatus } | undefined> {
  const { rows } = await db.query<{ id: number; status: JobStatus }>(
    `SELECT j.id, j.status FROM jobs j WHERE ${jobOfRecord("$1", "$2")} FOR UPDATE`,
    [batchId, recordId],
  );
  return rows[0];
}

/** Cancels one locked job (its batch row locked first) and its open prompts; a running one leaves its call. The counter move. */
export async function cancelJobRow(db: Queryable, jobId: number): Promise<Required<CounterMove>[]> {
  const { rows } = await db.query<Required<CounterMove> & { call_id: number | null }>(
    `WITH was AS (SELECT id, batch_id, call_id, status, ${countedAs("jobs")} AS counter FROM jobs WHERE id = $1),
     u AS (
       UPDATE jobs j SET status = 'cancelled', lease_owner = NULL, lease_expires_at = NULL, finished_at = now(),
         error_code = 'cancelled', error_message = 'job cancelled', error_retryable = false
       FROM was WHERE j.id = was.id RETURNING j.id, ${countedAs("j")} AS to_counter),
     calls AS (${callsLeftSql(`was WHERE was.status = 'running'`)})
     SELECT was.batch_id, was.counter AS from_counter, u.to_counter, 1 AS jobs, CASE WHEN was.status = 'running' THEN was.call_id END AS call_id
     FROM was JOIN u ON u.id = was.id`,
    [jobId],
  );
  if (rows[0]?.call_id != null) await closedCallsGone(db, [rows[0].batch_id]);
  await db.query(`UPDATE prompts SET status = 'cancelled' WHERE job_id = $1 AND status = 'open'`, [jobId]);
  return rows.map(({ batch_id, from_counter, to_counter, jobs }) => ({ batch_id, from_counter, to_counter, jobs }));
}

export interface ResultStreamRow {
  record_id: string;
  position: number;
  status: JobStatus;
  result: unknown;
  error_code: string | null;
  error_message: string | null;
  error_retryable: boolean | null;
  cost: number;
  record: unknown;
}

/** Up to `limit` jobs' outcomes after `after` in source (position) order, each with its record. */
export async function resultsAfter(db: Queryable, batchId: string, datasetId: string | null, after: number, statuses: JobStatus[] | null, limit: number): Promise<ResultStreamRow[]> {
  const { rows } = await db.query<ResultStreamRow>(
    // the record by a per-row index lookup: a join may be planned as a scan of the whole dataset per page
    `SELECT j.record_id, j.position, j.status, j.result, j.error_code, j.error_message, j.error_retryable, j.cost,
            (SELECT r.data FROM dataset_records r WHERE r.dataset_id = $2 AND r.position = j.position) AS record
     FROM jobs j
     WHERE j.batch_id = $1 AND j.position > $3 AND ($4::job_status[] IS NULL OR j.status = ANY($4::job_status[]))
     ORDER BY j.position LIMIT $5`,
    [batchId, datasetId, after, statuses, limit],
  );
  return rows;
}

// ---- many jobs at once (lib/engine/bulk-jobs.ts)

/** Locks the jobs of the listed record ids (through the dataset's index; a batch whose dataset was deleted: its own jobs). */
export async function lockJobsOfRecords(db: Queryable, batchId: string, datasetId: string | null, recordIds: string[]): Promise<{ id: number; status: JobStatus; record_id: string }[]> {
  const { rows } = await db.query<{ id: number; status: JobStatus; record_id: string }>(
    datasetId
      ? `SELECT j.id, j.status, j.record_id FROM dataset_records r JOIN jobs j ON j.batch_id = $1 AND j.position = r.position
         WHERE r.dataset_id = $3 AND r.record_id = ANY($2::text[]) AND j.record_id = r.record_id ORDER BY j.id FOR UPDATE OF j`
      : `SELECT j.id, j.status, j.record_id FROM jobs j WHERE j.batch_id = $1 AND j.record_id = ANY($2::text[]) ORDER BY j.id FOR UPDATE`,
    datasetId ? [batchId, recordIds, datasetId] : [batchId, recordIds],
  );
  return rows;
}

/** Locks up to `limit` jobs a filter selects, in id order. */
export async function lockFilteredJobs(db: Queryable, batchId: string, datasetId: string | null, f: JobFilter, limit: number): Promise<{ id: number; status: JobStatus }[]> {
  const { params, where } = jobFilterSql(batchId, datasetId, f);
  params.push(limit);
  const { rows } = await db.query<{ id: number; status: JobStatus }>(
    `SELECT j.id, j.status FROM jobs j WHERE ${where.join(" AND ")} ORDER BY j.id LIMIT $${params.length} FOR UPDATE OF j`,
    params,
  );
  return rows;
}

/** Cancels the listed jobs still pending or waiting, their open prompts and requeue entries; the counter moves. */
export async function cancelJobRows(db: Queryable, batchId: string, jobIds: number[]): Promise<Required<CounterMove>[]> {
  const { rows } = await db.query<Required<CounterMove>>(
    `WITH u AS (
       UPDATE jobs j SET status = 'cancelled', lease_owner = NULL, lease_expires_at = NULL, finished_at = now(),
         error_code = 'cancelled', error_message = 'job cancelled', error_retryable = false
       FROM (SELECT id, ${countedAs("jobs")} AS old FROM jobs WHERE id = ANY($2::bigint[]) AND batch_id = $1
               AND status IN ('pending', 'waiting_input', 'waiting_provider')) t
       WHERE j.id = t.id RETURNING j.id, j.batch_id, t.old, ${countedAs("j")} AS to_counter),
     p AS (UPDATE prompts SET status = 'cancelled' WHERE job_id IN (SELECT id FROM u) AND status = 'open'),
     r AS (DELETE FROM requeued_jobs WHERE job_id IN (SELECT id FROM u))
     SELECT batch_id, old AS from_counter, to_counter, count(*)::int AS jobs FROM u GROUP BY batch_id, old, to_counter`,
    [batchId, jobIds],
  );
  return rows;
}
