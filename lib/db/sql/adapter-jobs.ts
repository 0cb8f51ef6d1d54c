// The compatible job APIs (/batch: lib/job-queue, /api/batch: lib/embed-jobs) are batches marked by an
// adapter_jobs row. SQL because the row is written in the transaction that creates the batch (a pg
// transaction, withTx), every read hides expired batches by the database's clock (batchExpiredSql),
// and the status words and the counts are CASE and FILTER aggregates over the join.
import { batchExpiredSql, type BatchRow } from "./batches";
import type { Queryable } from "./queryable";

/** Marks a batch just created (in its transaction) as a job of `surface`. */
export async function insertAdapterJob(db: Queryable, j: { batchId: string; surface: string; jobType: string; createdAt: Date }): Promise<void> {
  await db.query(`INSERT INTO adapter_jobs (batch_id, surface, job_type, created_at) VALUES ($1, $2, $3, $4)`, [j.batchId, j.surface, j.jobType, j.createdAt]);
}

// ---- /batch (lib/job-queue)

/** A /batch job's status word, as SQL over the batches row `b`. */
const QUEUE_STATUS_SQL = `CASE WHEN b.status = 'pending' OR (b.status = 'paused' AND b.started_at IS NULL) THEN 'queued'
  WHEN b.status = 'paused' THEN 'running' ELSE b.status::text END`;

const queueLive = (surface: string) => `a.surface = '${surface}' AND NOT ${batchExpiredSql()}`;
const queueSelect = (surface: string) => `SELECT b.*, a.job_type FROM adapter_jobs a JOIN batches b ON b.id = a.batch_id WHERE ${queueLive(surface)}`;

export type QueueJobRow<T extends string> = BatchRow & { job_type: T };

export async function findQueueJob<T extends string>(db: Queryable, surface: string, batchId: string): Promise<QueueJobRow<T> | undefined> {
  const { rows } = await db.query<QueueJobRow<T>>(`${queueSelect(surface)} AND a.batch_id = $1`, [batchId]);
  return rows[0];
}

/** A page of /batch jobs, newest first, by status word and job type, and how many match. */
export async function listQueueJobRows<T extends string>(
  db: Queryable,
  surface: string,
  q: { status: string | null; jobType: string | null; limit: number; offset: number },
): Promise<{ rows: QueueJobRow<T>[]; total: number }> {
  const params: unknown[] = [q.status, q.jobType];
  const where = `AND ($1::text IS NULL OR ${QUEUE_STATUS_SQL} = $1) AND ($2::text IS NULL OR a.job_type = $2)`;
  const [page, count] = await Promise.all([
    db.query<QueueJobRow<T>>(`${queueSelect(surface)} ${where} ORDER BY a.created_at DESC, a.batch_id DESC LIMIT $3 OFFSET $4`, [...params, q.limit, q.offset]),
    db.query<{ n: number }>(`SELECT count(*)::int AS n FROM adapter_jobs a JOIN batches b ON b.id = a.batch_id WHERE ${queueLive(surface)} ${where}`, params),
  ]);
  return { rows: page.rows, total: count.rows[0]!.n };
}

export interface QueueStats {
  total: number;
  queued: number;
  running: number;
  completed: number;
  failed: number;
  cancelled: number;
}

export async function queueJobStats(db: Queryable, surface: string): Promise<QueueStats> {
  const { rows } = await db.query<QueueStats>(
    `SELECT count(*)::int AS total,
       count(*) FILTER (WHERE s = 'queued')::int AS queued, count(*) FILTER (WHERE s = 'running')::int AS running,
       count(*) FILTER (WHERE s = 'completed')::int AS completed, count(*) FILTER (WHERE s = 'failed')::int AS failed,
       count(*) FILTER (WHERE s = 'cancelled')::int AS cancelled
     FROM (SELECT ${QUEUE_STATUS_SQL} AS s FROM adapter_jobs a JOIN batches b ON b.id = a.batch_id WHERE ${queueLive(surface)}) j`,
  );
  return rows[0]!;
}

// ---- /api/batch (lib/embed-jobs)

const embedLive = `NOT ${batchExpiredSql()}`;

export async function findEmbedJob(db: Queryable, surface: string, batchId: string): Promise<BatchRow | undefined> {
  const { rows } = await db.query<BatchRow>(
    `SELECT b.* FROM adapter_jobs a JOIN batches b ON b.id = a.batch_id WHERE a.batch_id = $1 AND a.surface = $2 AND ${embedLive}`,
    [batchId, surface],
  );
  return rows[0];
}

/** The newest `limit` embed jobs, and how many there are. */
export async function listEmbedJobRows(db: Queryable, surface: string, limit: number): Promise<{ rows: BatchRow[]; total: number }> {
  const [page, count] = await Promise.all([
    db.query<BatchRow>(
      `SELECT b.* FROM adapter_jobs a JOIN batches b ON b.id = a.batch_id WHERE a.surface = $1 AND ${embedLive}
       ORDER BY a.created_at DESC, a.batch_id DESC LIMIT $2`,
      [surface, limit],
    ),
    db.query<{ n: number }>(`SELECT count(*)::int AS n FROM adapter_jobs a JOIN batches b ON b.id = a.batch_id WHERE a.surface = $1 AND ${embedLive}`, [surface]),
  ]);
  return { rows: page.rows, total: count.rows[0]!.n };
}

export interface EmbedJobCounts {
  total_jobs_created: number;
  total_jobs_completed: number;
  total_jobs_failed: number;
  total_jobs_cancelled: number;
  active_jobs: number;
  pending_jobs: number;
}

/** All-time counts (a deleted job's final status is kept in adapter_jobs) and what is under way. */
export async function embedJobCounts(db: Queryable, surface: string): Promise<EmbedJobCounts> {
  const { rows } = await db.query<EmbedJobCounts>(
    `SELECT count(*)::int AS total_jobs_created,
       count(*) FILTER (WHERE s = 'completed')::int AS total_jobs_completed,
       count(*) FILTER (WHERE s = 'failed')::int AS total_jobs_failed,
       count(*) FILTER (WHERE s = 'cancelled')::int AS total_jobs_cancelled,
       count(*) FILTER (WHERE s = 'running' OR (s = 'paused' AND started))::int AS active_jobs,
       count(*) FILTER (WHERE s = 'pending' OR (s = 'paused' AND NOT started))::int AS pending_jobs
     FROM (SELECT COALESCE(b.status::text, a.final_status) AS s, b.started_at IS NOT NULL AS started
           FROM adapter_jobs a LEFT JOIN batches b ON b.id = a.batch_id WHERE a.surface = $1) j`,
    [surface],
  );
  return rows[0]!;
}
