// Reading jobs (keyset pages that stay fast at 1,000,000 jobs), one job's detail, retry/cancel of one
// job, and the results stream in source order with bounded memory.
import { OPEN_JOB_STATUSES } from "@/lib/contract/statuses";
import { AppError } from "@/lib/errors";
import { getPool } from "@/lib/db/client";
import type { JobAttempt as JobAttemptModel } from "@/lib/generated/prisma/client";
import { escapeLike, getBatch, lockBatch, requeueJobs } from "./batches";
import { query, withTx } from "./db";
import { notifyBatch, notifyPrompts } from "./events";
import { CURSORS, decodeCursor, encodeCursor } from "@/lib/db/cursor";
import { batchExpiredSql, JOB_COLUMNS, toJob, toJobError, toPrompt, type JobRow, type PromptRow, PROMPT_SELECT } from "./map";
import type { RowOf } from "@/lib/db/rows";
import { applyDeltas, countedAs, Deltas, finishIfDone, type Counted } from "./transitions";
import type { BatchCounts, Job, JobAttempt, JobDetail, JobStatus, LogLine, Page, ResultRow } from "./types";

export interface ListJobsOptions {
  status?: JobStatus[];
  q?: string;
  /** ordinal: run order; finished: most recently finished first (finished jobs only) */
  sort?: "ordinal" | "finished";
  cursor?: string | null;
  limit: number;
}

// jobs in a status, from the batch's counters; status running lists the reservations too
const COUNT_OF: Record<JobStatus, (c: BatchCounts) => number> = {
  pending: (c) => c.pending,
  running: (c) => c.running + c.reserved,
  waiting_input: (c) => c.waitingInput,
  waiting_provider: (c) => c.waitingProvider,
  succeeded: (c) => c.succeeded,
  failed: (c) => c.failed,
  cancelled: (c) => c.cancelled,
  skipped: (c) => c.skipped,
};

const FINISHED: JobStatus[] = ["succeeded", "failed", "cancelled", "skipped"];

/**
 * The condition on `jobs j` for the job of record `recordId` in batch `batchId` (SQL expressions,
 * e.g. "$1", "$2"). jobs has no index on record_id (each index in an order other than the run order
 * costs ingest ~0.5 s per 100,000 jobs): the id resolves to its position through the dataset's
 * unique (dataset_id, record_id) index, then to the job through the unique (batch_id, position)
 * one. A finished batch whose dataset was deleted has no records left to look in: its own jobs are
 * scanned instead (that subquery runs only then). The record_id check makes a wrong match impossible.
 */
export function jobOfRecord(batchId: string, recordId: string): string {
  return `j.batch_id = ${batchId} AND j.record_id = ${recordId} AND j.position = (
    SELECT COALESCE(
      (SELECT r.position FROM dataset_records r WHERE r.dataset_id = rb.dataset_id AND r.record_id = ${recordId}),
      (SELECT rj.position FROM jobs rj WHERE rb.dataset_id IS NULL AND rj.batch_id = rb.id AND rj.record_id = ${recordId}))
    FROM batches rb WHERE rb.id = ${batchId})`;
}

/** The jobs of a batch in `status` whose record id or data contains `q`, as SQL over `jobs j` (the jobs table's filter). */
export function jobFilterSql(batchId: string, datasetId: string | null, opts: { status?: JobStatus[]; q?: string }) {
  const params: unknown[] = [batchId];
  const where = ["j.batch_id = $1"];
  let join = "";
  if (opts.status?.length) {
    params.push(opts.status);
    where.push(`j.status = ANY($${params.length}::job_status[])`);
  }
  if (opts.q) {
    params.push(`%${escapeLike(opts.q)}%`);
    join = `LEFT JOIN dataset_records r ON r.dataset_id = $${params.length + 1} AND r.position = j.position`;
    where.push(`(j.record_id ILIKE $${params.length} OR r.data::text ILIKE $${params.length})`);
    params.push(datasetId);
  }
  return { params, where, join };
}

export async function listJobs(batchId: string, opts: ListJobsOptions): Promise<Page<Job>> {
  const batch = await getBatch(batchId);
  const sort = opts.sort ?? "ordinal";
  const { params, where, join } = jobFilterSql(batchId, batch.datasetId, opts);
  if (sort === "finished") where.push("j.finished_at IS NOT NULL");
  const filterWhere = [...where];
  const filterParams = [...params];
  if (sort === "ordinal") {
    const cursor = decodeCursor(opts.cursor, CURSORS.ordinal);
    if (cursor) {
      params.push(cursor[0]);
      where.push(`j.ordinal > $${params.length}`);
    }
  } else {
    const cursor = decodeCursor(opts.cursor, CURSORS.finishedAt);
    if (cursor) {
      params.push(new Date(cursor[0]), cursor[1]);
      where.push(`(j.finished_at, j.id) < ($${params.length - 1}, $${params.length})`);
    }
  }
  const limit = Math.max(1, Math.min(opts.limit, 1000));
  params.push(limit + 1);
  const order = sort === "ordinal" ? "j.ordinal" : "j.finished_at DESC, j.id DESC";
  const { rows } = await query<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM jobs j ${join} WHERE ${where.join(" AND ")} ORDER BY ${order} LIMIT $${params.length}`,
    params,
  );
  let total: number;
  if (!opts.q) {
    // O(1): the batch's counters are exact (finished_at is set exactly for the finished statuses)
    const wanted = opts.status?.length ? [...new Set(opts.status)] : null;
    const statuses = sort === "finished" ? (wanted ?? FINISHED).filter((s) => FINISHED.includes(s)) : wanted;
    total = statuses ? statuses.reduce((n, s) => n + COUNT_OF[s](batch.counts), 0) : batch.counts.total;
  } else {
    const r = await query<{ n: number }>(
      `SELECT count(*)::int AS n FROM jobs j ${join} WHERE ${filterWhere.join(" AND ")}`,
      filterParams,
    );
    total = r.rows[0]?.n ?? 0;
  }
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  let nextCursor: string | null = null;
  if (rows.length > limit && last) {
    nextCursor = sort === "ordinal" ? encodeCursor([last.ordinal]) : encodeCursor([last.finished_at!.toISOString(), last.id]);
  }
  return { items: page.map(toJob), nextCursor, total };
}

/** A job_attempts row, typed by the Prisma model. */
type AttemptRow = Pick<RowOf<JobAttemptModel>, "attempt" | "outcome" | "started_at" | "finished_at" | "duration_ms" | "cost" | "error_code" | "error_message">;

export async function getJob(batchId: string, recordId: string): Promise<JobDetail> {
  const { rows } = await query<JobRow & { result: unknown; logs: LogLine[] | null; record: unknown }>(
    `SELECT ${JOB_COLUMNS}, j.result, j.logs, r.data AS record
     FROM jobs j JOIN batches b ON b.id = j.batch_id
     LEFT JOIN dataset_records r ON r.dataset_id = b.dataset_id AND r.position = j.position
     WHERE ${jobOfRecord("$1", "$2")} AND NOT ${batchExpiredSql()}`,
    [batchId, recordId],
  );
  const row = rows[0];
  if (!row) {
    await getBatch(batchId);
    throw new AppError("not_found", `job ${JSON.stringify(recordId)} not found in batch ${JSON.stringify(batchId)}`);
  }
  const [prompts, attempts] = await Promise.all([
    query<PromptRow>(`SELECT ${PROMPT_SELECT} WHERE p.job_id = $1 ORDER BY p.created_at, p.id`, [row.id]),
    // SQL, not jobAttempt.findMany: beside the prompts query that took 2.45 / 10.39 ms (p50 / p95)
    // against 1.25 / 2.15 ms (bench/results/prisma-data-layer.md)
    query<AttemptRow>(
      `SELECT attempt, outcome, started_at, finished_at, duration_ms, cost, error_code, error_message
       FROM job_attempts WHERE batch_id = $1 AND job_id = $2 ORDER BY attempt`,
      [row.batch_id, row.id],
    ),
  ]);
  return {
    ...toJob(row),
    record: row.record ?? null,
    result: row.result ?? null,
    logs: row.logs ?? [],
    prompts: prompts.rows.map(toPrompt),
    attemptHistory: attempts.rows.map((a) => ({
      attempt: a.attempt,
      outcome: a.outcome as JobAttempt["outcome"],
      startedAt: a.started_at,
      finishedAt: a.finished_at,
      durationMs: a.duration_ms,
      cost: a.cost,
      error: a.error_code ? { code: a.error_code, message: a.error_message ?? "" } : null,
    })),
  };
}

export async function retryJob(batchId: string, recordId: string): Promise<JobDetail> {
  await withTx(async (client) => {
    const batch = await lockBatch(client, batchId);
    const { rows } = await client.query<{ id: number; status: JobStatus }>(
      `SELECT j.id, j.status FROM jobs j WHERE ${jobOfRecord("$1", "$2")}`,
      [batchId, recordId],
    );
    const job = rows[0];
    if (!job) throw new AppError("not_found", `job ${JSON.stringify(recordId)} not found in batch ${JSON.stringify(batchId)}`);
    if (!["failed", "cancelled", "skipped"].includes(job.status)) {
      throw new AppError("conflict", `cannot retry: job is ${job.status}`, [{ message: `job is ${job.status}` }]);
    }
    await requeueJobs(client, batch, [job.status], [job.id]);
  });
  const b = await getBatch(batchId);
  notifyBatch(batchId, b.status);
  return getJob(batchId, recordId);
}

export async function cancelJob(batchId: string, recordId: string): Promise<JobDetail> {
  const status = await withTx(async (client) => {
    await lockBatch(client, batchId);
    const { rows } = await client.query<{ id: number; status: JobStatus; counted: Counted }>(
      `SELECT j.id, j.status, ${countedAs("j")} AS counted FROM jobs j WHERE ${jobOfRecord("$1", "$2")} FOR UPDATE`,
      [batchId, recordId],
    );
    const job = rows[0];
    if (!job) throw new AppError("not_found", `job ${JSON.stringify(recordId)} not found in batch ${JSON.stringify(batchId)}`);
    if (!(OPEN_JOB_STATUSES as readonly JobStatus[]).includes(job.status)) {
      throw new AppError("conflict", `cannot cancel: job is ${job.status}`, [{ message: `job is ${job.status}` }]);
    }
    await client.query(
      `UPDATE jobs SET status = 'cancelled', lease_owner = NULL, lease_expires_at = NULL, finished_at = now(),
         error_code = 'cancelled', error_message = 'job cancelled', error_retryable = false WHERE id = $1`,
      [job.id],
    );
    await client.query(`UPDATE prompts SET status = 'cancelled' WHERE job_id = $1 AND status = 'open'`, [job.id]);
    const deltas = new Deltas().move(batchId, job.counted, "cancelled");
    await applyDeltas(client, deltas);
    const done = await finishIfDone(client, [batchId]);
    return done[0]?.status;
  });
  const b = await getBatch(batchId);
  notifyBatch(batchId, status ?? b.status);
  notifyPrompts(batchId);
  return getJob(batchId, recordId);
}

const RESULTS_PAGE = 2000;

/** Every job's outcome in source (position) order, read in keyset pages: memory stays bounded. */
export async function* streamResults(batchId: string, opts: { status?: JobStatus[] } = {}): AsyncGenerator<ResultRow> {
  const batch = await getBatch(batchId);
  let after = -1;
  for (;;) {
    const { rows } = await getPool().query<{
      record_id: string;
      position: number;
      status: JobStatus;
      result: unknown;
      error_code: string | null;
      error_message: string | null;
      error_retryable: boolean | null;
      cost: number;
      record: unknown;
    }>(
      // the record by a per-row index lookup: a join may be planned as a scan of the whole dataset per page
      `SELECT j.record_id, j.position, j.status, j.result, j.error_code, j.error_message, j.error_retryable, j.cost,
              (SELECT r.data FROM dataset_records r WHERE r.dataset_id = $2 AND r.position = j.position) AS record
       FROM jobs j
       WHERE j.batch_id = $1 AND j.position > $3 AND ($4::job_status[] IS NULL OR j.status = ANY($4::job_status[]))
       ORDER BY j.position LIMIT ${RESULTS_PAGE}`,
      [batchId, batch.datasetId, after, opts.status?.length ? opts.status : null],
    );
    for (const r of rows) {
      yield {
        recordId: r.record_id,
        position: r.position,
        status: r.status,
        result: r.result ?? null,
        error: toJobError(r),
        cost: r.cost,
        record: r.record,
      };
    }
    if (rows.length < RESULTS_PAGE) return;
    after = rows[rows.length - 1]!.position;
  }
}
