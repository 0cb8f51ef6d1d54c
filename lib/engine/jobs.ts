// Reading jobs (keyset pages that stay fast at 1,000,000 jobs), one job's detail, retry/cancel of one
// job, and the results stream in source order with bounded memory.
import { FINISHED_JOB_STATUSES, OPEN_JOB_STATUSES } from "@/lib/contract/statuses";
import { AppError } from "@/lib/errors";
import { getPool } from "@/lib/db/client";
import { escapeLike, getBatch, lockBatch, requeueJobs } from "./batches";
import {
  cancelJobRow,
  countJobs,
  findJobOfRecord,
  jobAttempts,
  listJobRows,
  lockJobOfRecord,
  readJobOfRecord,
  resultsAfter,
  type JobFilter,
} from "@/lib/db/sql/jobs";
import { promptsOfJob } from "@/lib/db/sql/prompts";
import { withTx } from "./db";
import { notifyBatch, notifyPrompts } from "./events";
import { CURSORS, decodeCursor, encodeCursor } from "@/lib/db/cursor";
import { toJob, toJobError, toPrompt, type JobRow } from "./map";
import { finishIfDone, moveCounters } from "./transitions";
import type { BatchRead } from "./map";
import type { Job, JobAttempt, JobDetail, JobStatus, LogLine, Page, ResultRow } from "./types";

export interface ListJobsOptions {
  status?: JobStatus[];
  q?: string;
  /** ordinal: run order; finished: most recently finished first (finished jobs only) */
  sort?: "ordinal" | "finished";
  cursor?: string | null;
  limit: number;
}

// jobs in a status, from the batch's counters; status running lists the reservations too
const COUNT_OF: Record<JobStatus, (c: BatchRead) => number> = {
  pending: (c) => c.pending,
  running: (c) => c.running + c.reserved,
  waiting_input: (c) => c.waitingInput,
  waiting_provider: (c) => c.waitingProvider,
  succeeded: (c) => c.succeeded,
  failed: (c) => c.failed,
  cancelled: (c) => c.cancelled,
  skipped: (c) => c.skipped,
};

const FINISHED: readonly JobStatus[] = FINISHED_JOB_STATUSES;

export async function listJobs(batchId: string, opts: ListJobsOptions): Promise<Page<Job>> {
  const batch = await getBatch(batchId);
  const sort = opts.sort ?? "ordinal";
  const filter = jobFilterOf(opts);
  const limit = Math.max(1, Math.min(opts.limit, 1000));
  let rows: JobRow[];
  if (sort === "ordinal") {
    const cursor = decodeCursor(opts.cursor, CURSORS.ordinal);
    rows = await listJobRows(getPool(), batchId, batch.datasetId, filter, { sort, after: cursor ? cursor[0] : undefined }, limit + 1);
  } else {
    const cursor = decodeCursor(opts.cursor, CURSORS.finishedAt);
    rows = await listJobRows(getPool(), batchId, batch.datasetId, filter, { sort, after: cursor ? { finishedAt: new Date(cursor[0]), id: cursor[1] } : undefined }, limit + 1);
  }
  let total: number;
  if (!opts.q) {
    // O(1): the batch's counters are exact (finished_at is set exactly for the finished statuses)
    const wanted = opts.status?.length ? [...new Set(opts.status)] : null;
    const statuses = sort === "finished" ? (wanted ?? FINISHED).filter((s) => FINISHED.includes(s)) : wanted;
    total = statuses ? statuses.reduce((n, s) => n + COUNT_OF[s](batch), 0) : batch.total;
  } else {
    total = await countJobs(getPool(), batchId, batch.datasetId, filter, sort === "finished");
  }
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  let nextCursor: string | null = null;
  if (rows.length > limit && last) {
    nextCursor = sort === "ordinal" ? encodeCursor([last.ordinal]) : encodeCursor([last.finished_at!.toISOString(), last.id]);
  }
  return { items: page.map(toJob), nextCursor, total };
}

/** The jobs table's filter (status, q) as the statements take it. */
export function jobFilterOf(opts: { status?: JobStatus[]; q?: string }): JobFilter {
  return { status: opts.status, pattern: opts.q ? `%${escapeLike(opts.q)}%` : undefined };
}

export async function getJob(batchId: string, recordId: string): Promise<JobDetail> {
  const row = await readJobOfRecord(getPool(), batchId, recordId);
  if (!row) {
    await getBatch(batchId);
    throw new AppError("not_found", `job ${JSON.stringify(recordId)} not found in batch ${JSON.stringify(batchId)}`);
  }
  const [prompts, attempts] = await Promise.all([
    promptsOfJob(getPool(), row.id),
    // SQL, not jobAttempt.findMany: beside the prompts query that took 2.45 / 10.39 ms (p50 / p95)
    // against 1.25 / 2.15 ms (bench/results/prisma-data-layer.md)
    jobAttempts(getPool(), row.batch_id, row.id),
  ]);
  return {
    ...toJob(row),
    record: row.record ?? null,
    result: row.result ?? null,
    logs: (row.logs as LogLine[] | null) ?? [],
    prompts: prompts.map(toPrompt),
    attemptHistory: attempts.map((a) => ({
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
    const job = await findJobOfRecord(client, batchId, recordId);
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
    const job = await lockJobOfRecord(client, batchId, recordId);
    if (!job) throw new AppError("not_found", `job ${JSON.stringify(recordId)} not found in batch ${JSON.stringify(batchId)}`);
    if (!(OPEN_JOB_STATUSES as readonly JobStatus[]).includes(job.status)) {
      throw new AppError("conflict", `cannot cancel: job is ${job.status}`, [{ message: `job is ${job.status}` }]);
    }
    await moveCounters(client, await cancelJobRow(client, job.id));
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
    const rows = await resultsAfter(getPool(), batchId, batch.datasetId, after, opts.status?.length ? opts.status : null, RESULTS_PAGE);
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
