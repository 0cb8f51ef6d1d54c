// Retry or cancel many jobs of a batch at once: the ones a filter shows (status, q, as the jobs table
// filters) or a list of record ids. Each applies only to jobs it can act on (retry: failed and
// cancelled; cancel: pending and waiting, for input or on a provider batch); the rest are counted as left unchanged, so a
// repeat changes nothing (idempotent).
import type pg from "pg";
import { batchStatus } from "@/lib/db/sql/batches";
import { cancelJobRows, lockFilteredJobs, lockJobsOfRecords } from "@/lib/db/sql/jobs";
import { AppError } from "@/lib/errors";
import { lockBatch, requeueJobs } from "./batches";
import { withTx } from "./db";
import { notifyBatch, notifyPrompts } from "./events";
import { jobFilterOf } from "./jobs";
import { finishIfDone, jobsIn, moveCounters } from "./transitions";
import type { BatchStatus, JobStatus } from "./types";

export const BULK_APPLIES_TO = {
  retry: ["failed", "cancelled"],
  cancel: ["pending", "waiting_input", "waiting_provider"],
} as const satisfies Record<string, readonly JobStatus[]>;
export type BulkAction = keyof typeof BULK_APPLIES_TO;

/** At most this many jobs per request: one transaction locks them all. A list of ids is bounded by the API (1,000). */
export const BULK_FILTER_MAX = 100_000;

export type BulkSelection = { recordIds: string[] } | { filter: { status?: JobStatus[]; q?: string } };

export interface BulkOutcome {
  action: BulkAction;
  /** jobs the selection named or matched */
  matched: number;
  /** jobs the action moved (retried, or cancelled) */
  changed: number;
  /** matched jobs in a status the action does not apply to */
  unchanged: number;
  /** record ids of the list that are not jobs of this batch */
  notFound: string[];
  appliesTo: readonly JobStatus[];
  status: BatchStatus;
}

export async function bulkJobs(batchId: string, action: BulkAction, selection: BulkSelection): Promise<BulkOutcome> {
  const appliesTo = BULK_APPLIES_TO[action];
  const outcome = await withTx(async (client) => {
    const batch = await lockBatch(client, batchId);
    const { jobs, notFound } = await selectJobs(client, batchId, batch.dataset_id, selection);
    const eligible = jobs.filter((j) => (appliesTo as readonly JobStatus[]).includes(j.status)).map((j) => j.id);
    let changed = 0;
    if (eligible.length && action === "retry") changed = await requeueJobs(client, batch, [...appliesTo], eligible);
    if (eligible.length && action === "cancel") changed = await cancelJobs(client, batchId, eligible);
    const done = changed && action === "cancel" ? await finishIfDone(client, [batchId]) : [];
    return { matched: jobs.length, changed, notFound, status: done[0]?.status ?? (await batchStatus(client, batchId)) };
  });
  if (outcome.changed) {
    notifyBatch(batchId, outcome.status);
    notifyPrompts(batchId);
  }
  return { action, appliesTo, unchanged: outcome.matched - outcome.changed, ...outcome };
}

async function selectJobs(client: pg.ClientBase, batchId: string, datasetId: string | null, selection: BulkSelection) {
  if ("recordIds" in selection) {
    const ids = [...new Set(selection.recordIds)];
    // by record id through the dataset's (dataset_id, record_id) index, as one job's lookup does;
    // a batch whose dataset was deleted is searched in its own jobs
    const rows = await lockJobsOfRecords(client, batchId, datasetId, ids);
    const found = new Set(rows.map((r) => r.record_id));
    return { jobs: rows, notFound: ids.filter((id) => !found.has(id)) };
  }
  const rows = await lockFilteredJobs(client, batchId, datasetId, jobFilterOf(selection.filter), BULK_FILTER_MAX + 1);
  if (rows.length > BULK_FILTER_MAX) {
    throw new AppError("validation_failed", `the filter matches more than ${BULK_FILTER_MAX.toLocaleString("en-US")} jobs`, [
      { path: "filter", message: "narrow the filter; to act on the whole batch, use its retry or cancel" },
    ]);
  }
  return { jobs: rows, notFound: [] };
}

/** Cancels the listed jobs still pending or waiting (for input or on a provider batch), with the counters and their open prompts. */
async function cancelJobs(client: pg.ClientBase, batchId: string, jobIds: number[]): Promise<number> {
  const moves = await cancelJobRows(client, batchId, jobIds);
  await moveCounters(client, moves);
  return jobsIn(moves);
}
