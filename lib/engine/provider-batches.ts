// Provider batch offload, the engine's side. A flow in provider_batch mode sends a group of its jobs
// to a provider's batch tier and parks them (waiting_provider: no worker slot, no lease), like a job
// waiting on a human. This module keeps which provider batch each job's attempt went in, polls the
// provider batches (backing off, no pooled connection held across a provider call), stores each
// job's outcome once the provider batch ended and wakes the job; the job then runs again and its
// flow takes the stored outcome instead of calling (providerStateOf). Cancel, pause and a stop of
// the batch reach the provider: its batch is cancelled there.
import type pg from "pg";
import { getConfig } from "@/lib/config";
import { isActiveBatch } from "@/lib/contract/statuses";
import { BATCH_CLIENTS, customIdOf } from "@/lib/flows/provider-batch";
import type {
  BatchProvider,
  ProviderBatchStatus,
  ProviderConnection,
  ProviderOutcome,
  ProviderResults,
  ProviderState,
  SubmissionTarget,
} from "@/lib/flows/provider-batch/types";
import { getPool, getPrisma } from "@/lib/db/client";
import {
  adoptProviderBatch,
  claimDueProviderBatches,
  holdSubmission,
  HAS_PROVIDER_OUTCOME,
  insertProviderRequests,
  insertSubmission,
  lockJobsById,
  lockOwnedJobs,
  lockOpenProviderBatch,
  markCancelRequested,
  markEnded,
  markSubmissionFailed,
  recordProgress,
  recordSubmission,
  requestJobIds,
  requestStates,
  setProviderBatchError,
  storeOutcomes,
  type DueProviderBatch,
  type SubmissionHolder,
  type PollBackoff,
} from "@/lib/db/sql/provider-batches";
import type { ProviderBatch } from "@/lib/generated/prisma/client";
import { withTx } from "./db";
import { getBatch } from "./batches";
import { wakeParked } from "./transitions";
import type { BatchStatus } from "./types";

/** A provider batch as the API shows it: where it went (base URL, key variable) stays server-side. */
export type ProviderBatchInfo = Omit<ProviderBatch, "id" | "batchId" | "provider" | "baseUrl" | "apiKeyEnv" | "endpoint" | "nextPollAt"> & {
  id: string;
  provider: BatchProvider;
  /** null once it ended */
  nextPollAt: Date | null;
};

/** How provider batches are polled: from BATCHBOARD_PROVIDER_POLL_MS, 1.5 times longer each poll, at most BATCHBOARD_PROVIDER_POLL_MAX_MS. */
function pollBackoff(): PollBackoff {
  const { BATCHBOARD_PROVIDER_POLL_MS: firstMs, BATCHBOARD_PROVIDER_POLL_MAX_MS: maxMs } = getConfig();
  return { firstMs, maxMs };
}

export { SUBMITTING, type SubmissionHolder } from "@/lib/db/sql/provider-batches";

/** Thrown by reserveProviderBatch when the records are no longer the submitter's (its lease lapsed and another worker took them). */
export class RecordsLost extends Error {
  override name = "RecordsLost";
}

/**
 * Records a provider batch about to be submitted and the job attempts it holds, before the provider
 * is asked: state "submitting", no provider id, recovered after `holdMs` unless recorded or held
 * again by then (holdProviderBatch; recoverSubmission). A job sent again (a later attempt) moves to
 * the new provider batch; its earlier outcome is dropped. With a holder, only the records' owner
 * reserves: their jobs are locked and must still run under it at the attempts it claimed, else
 * RecordsLost (another worker took them after its lease lapsed; nothing is recorded, nothing may be
 * sent). Returns our id of the submission, sent as the provider batch's metadata.
 */
export async function reserveProviderBatch(
  batchId: string,
  target: SubmissionTarget,
  jobs: readonly { id: number; attempts: number }[],
  holdMs: number,
  holder?: SubmissionHolder,
): Promise<string> {
  return withTx(async (client) => {
    if (holder && !(await lockOwnedJobs(client, holder))) {
      throw new RecordsLost("the records are no longer this worker's (its lease lapsed and another worker took them): nothing is sent");
    }
    const inserted = await insertSubmission(client, { batchId, ...target, requests: jobs.length, holdMs });
    // a string whatever the driver makes of a bigint: metadata values are strings
    const id = String(inserted);
    await insertProviderRequests(client, id, jobs);
    return id;
  });
}

/**
 * The submitter of `id` is still at it: its hold runs `holdMs` from now. `held` false once it is
 * recorded, failed, or recovered (a hold that lapsed is not taken back from the recovery under way),
 * and with `requireOwned` also once its records are no longer the holder's. `owned`: whether they
 * still are (each running under the holder at the attempt it claimed, or parked on this submission).
 */
export function holdProviderBatch(id: string, holdMs: number, holder: SubmissionHolder, requireOwned = false): Promise<{ held: boolean; owned: boolean }> {
  return holdSubmission(getPool(), id, holdMs, holder, requireOwned);
}

/**
 * The provider took submission `id`: its provider id and state, polled from now on. True also when
 * a recovery already adopted this very provider batch (the submitter outlived its hold: the batch
 * stands, nothing is sent again). False when it is not recorded: the submission was recovered
 * otherwise (it ended: its records are sent again), or, with a holder, its records are no longer the
 * holder's (another worker took them): the caller cancels what the provider created, then ends the
 * submission (failProviderBatch), and the records go on with whoever holds them now.
 */
export async function recordProviderBatch(id: string, status: ProviderBatchStatus, holder?: SubmissionHolder): Promise<boolean> {
  return (await recordSubmission(getPool(), id, status, pollBackoff(), holder ?? null)) === "recorded";
}

/**
 * Submission `id` failed with `error`. The provider created nothing (it answered, or nothing was
 * sent): the submission ends, "not_submitted", and the attempts it holds are released (a worker that
 * took the records over after a lapsed lease and parked them on it wakes them; they are sent again,
 * no attempt counted), the submitter's own jobs fail or retry as the caller's error says. A no-op
 * when it ended already. Maybe created (no answer): recovered at the next poll.
 */
export async function failProviderBatch(id: string, error: string, created: false | "maybe"): Promise<void> {
  if (created === false) {
    const status: ProviderBatchStatus = { id: "", status: "not_submitted", ended: true, counts: { total: 0, succeeded: 0, failed: 0 }, expiresAt: null, failure: error.slice(0, 2000), raw: null };
    await finishProviderBatch(id, status, { outcomes: new Map(), malformed: [] }, true, (customId) => ({
      customId,
      ok: false,
      code: "provider_batch_cancelled",
      message: `the provider batch was not submitted (${error.slice(0, 500)}): the record is sent again`,
      retryable: true,
    }));
    return;
  }
  await markSubmissionFailed(getPool(), id, `submission failed: ${error}`.slice(0, 2000));
}

/** Records a provider batch the provider already took, and the job attempts it holds (reserve and record at once). */
export async function recordSubmittedProviderBatch(batchId: string, target: SubmissionTarget, status: ProviderBatchStatus, jobs: readonly { id: number; attempts: number }[]): Promise<string> {
  const id = await reserveProviderBatch(batchId, target, jobs, 60_000);
  await recordProviderBatch(id, status);
  return id;
}

/**
 * For the jobs of a run, by job id: the provider's outcome stored for this very attempt, or "waiting"
 * while a provider batch still holds it (a run after a lapsed lease must not send it again). Absent:
 * nothing sent for this attempt, or a cancel of ours returned it unsent.
 */
export async function providerStateOf(jobs: readonly { id: number; attempts: number }[]): Promise<Map<number, ProviderState>> {
  const out = new Map<number, ProviderState>();
  if (jobs.length === 0) return out;
  const rows = await requestStates<ProviderOutcome & { released?: boolean }>(getPool(), jobs);
  for (const r of rows) {
    if (r.outcome && !r.outcome.released) out.set(Number(r.job_id), { outcome: r.outcome });
    else if (!r.outcome && !r.ended) out.set(Number(r.job_id), "waiting");
  }
  return out;
}

/**
 * Parked jobs whose provider outcome is stored go back to pending (run at once), with the counters.
 * Runs in the caller's transaction: after a park (writeOutcomes), and after outcomes are stored.
 */
export function wakeProviderJobs(client: pg.ClientBase, jobIds: readonly number[]): Promise<number> {
  return wakeParked(client, jobIds, "waiting_provider", HAS_PROVIDER_OUTCOME);
}

type DueRow = DueProviderBatch<BatchProvider, BatchStatus>;

/** a provider call made while polling: bounded, whatever the provider does */
const POLL_CALL_MS = 60_000;
/** at most this many calls looking for a submission at the provider (pages of its list) */
const FIND_CALLS = 10;

/**
 * Polls the provider batches that are due (at most `limit`), each by one poller at a time: reads
 * their state, cancels at the provider those whose batch stopped running (cancelled, paused, stopped),
 * and reads back the results of those that ended. Returns how many ended here.
 */
export async function pollProviderBatches(limit = 20, log: (line: string) => void = () => {}): Promise<number> {
  // each due row's next poll moves out first, in its own statement: no connection is held across
  // the provider's calls, and another poller skips the row meanwhile
  const rows = await claimDueProviderBatches<BatchProvider, BatchStatus>(getPool(), limit, pollBackoff());
  let ended = 0;
  for (const row of rows) {
    try {
      if (await pollOne(row, log)) ended++;
    } catch (err) {
      const message = (err as Error).message;
      log(`provider batch ${row.provider_batch_id ?? `submission ${row.id}`} (${row.provider}): poll failed, tried again later: ${message}`);
      await setProviderBatchError(getPool(), row.id, `last poll failed: ${message}`.slice(0, 2000));
    }
  }
  return ended;
}

async function pollOne(row: DueRow, log: (line: string) => void): Promise<boolean> {
  const client = BATCH_CLIENTS[row.provider];
  const conn: ProviderConnection = {
    baseUrl: row.base_url,
    apiKeyEnv: row.api_key_env ?? undefined,
    signal: AbortSignal.timeout(POLL_CALL_MS * (FIND_CALLS + 1)),
    timeoutMs: POLL_CALL_MS,
  };
  if (row.provider_batch_id === null) return recoverSubmission(row, conn, log);
  // a batch that no longer runs (cancelled, paused, stopped, finished) wants nothing more from it
  const stop = row.cancel_requested_at === null && !(isActiveBatch(row.batch_status) && row.batch_status !== "paused");
  let status = stop ? await client.cancel(conn, row.provider_batch_id) : await client.get(conn, row.provider_batch_id);
  if (stop) {
    await markCancelRequested(getPool(), row.id);
    if (!status.ended) status = await client.get(conn, row.provider_batch_id);
  }
  if (!status.ended) {
    await recordProgress(getPool(), row.id, status);
    return false;
  }
  const results: ProviderResults = status.failure ? { outcomes: new Map(), malformed: [] } : await client.results(conn, status);
  await finishProviderBatch(row.id, status, results, stop || row.cancel_requested_at !== null);
  return true;
}

/**
 * A submission not recorded in time: its submitter died between asking the provider and storing its
 * answer, or got no answer. An OpenAI-compatible provider is asked for the batch created with this
 * submission's metadata, which is adopted (polled from now on, nothing sent twice). Not found, or
 * Anthropic (no metadata): the submission ends and its records go again: without counting an attempt
 * after a lost submitter (released), as a retryable failure with its error after a failed submission.
 */
async function recoverSubmission(row: DueRow, conn: ProviderConnection, log: (line: string) => void): Promise<boolean> {
  const client = BATCH_CLIENTS[row.provider];
  const found = client.findByMetadata ? await client.findByMetadata(conn, { batchboard_batch: row.batch_id, batchboard_submission: String(row.id) }, row.submitted_at) : null;
  if (found) {
    const adopted = await adoptProviderBatch(getPool(), row.id, found);
    if (adopted) log(`submission ${row.id} (${row.provider}): adopted provider batch ${found.id}, found by its metadata`);
    return false;
  }
  const why = row.error ?? (client.findByMetadata ? "its submitter stopped before the provider's answer was stored, and the provider has no batch naming it" : "its submitter stopped before the provider's answer was stored (this provider cannot be asked which batch it was)");
  const status: ProviderBatchStatus = { id: "", status: "not_submitted", ended: true, counts: { total: 0, succeeded: 0, failed: 0 }, expiresAt: null, failure: why, raw: null };
  const outcome = (customId: string): ProviderOutcome =>
    row.error
      ? { customId, ok: false, code: "provider_submit_failed", message: `the provider batch could not be submitted: ${row.error}`, retryable: true }
      : { customId, ok: false, code: "provider_batch_cancelled", message: "the provider batch was never recorded: the record is sent again", retryable: true };
  log(`submission ${row.id} (${row.provider}): not at the provider; its records go again (${why})`);
  await finishProviderBatch(row.id, status, { outcomes: new Map(), malformed: [] }, row.error === null, outcome);
  return true;
}

/** The outcome of a request the provider returned nothing readable for. */
function missingOutcome(customId: string, status: ProviderBatchStatus, results: ProviderResults): ProviderOutcome {
  if (status.failure) return { customId, ok: false, code: "provider_batch_failed", message: `the provider failed the whole batch: ${status.failure}`, retryable: false };
  if (results.malformed.length > 0) {
    const first = results.malformed[0]!;
    return {
      customId,
      ok: false,
      code: "invalid_provider_output",
      message: `the provider returned no readable result for this record: ${results.malformed.length} line(s) of its output could not be read (line ${first.line} of the ${first.file} file: ${first.reason})`,
      retryable: true,
    };
  }
  return { customId, ok: false, code: "provider_result_missing", message: "the provider returned no result for this record", retryable: true };
}

/**
 * Stores the outcome of every job attempt the ended provider batch held and wakes the parked jobs,
 * in one transaction. A request our own cancel kept from running (pause, cancel) is marked released:
 * its job runs again later and is sent again, without an attempt counted against it.
 */
export async function finishProviderBatch(
  id: string,
  status: ProviderBatchStatus,
  results: ProviderResults,
  cancelledByUs: boolean,
  missing: (customId: string) => ProviderOutcome = (customId) => missingOutcome(customId, status, results),
): Promise<number> {
  return withTx(async (client) => {
    const jobIds = await requestJobIds(client, id);
    // the jobs first, in id order, as the worker cycle locks them: a park written concurrently either
    // lands before (and is woken below) or after (and sees the outcomes when it looks: writeOutcomes)
    await lockJobsById(client, jobIds);
    // another poller finished it; or, recovering a submission (no provider id), its submitter recorded it meanwhile
    if (!(await lockOpenProviderBatch(client, id, status.id))) return 0;
    const outcomes = jobIds.map((jobId) => {
      const customId = customIdOf(jobId);
      const outcome = results.outcomes.get(customId) ?? missing(customId);
      return cancelledByUs && !outcome.ok && outcome.code === "provider_batch_cancelled" ? { ...outcome, released: true } : outcome;
    });
    await storeOutcomes(client, id, jobIds, outcomes);
    const unread = results.malformed.length ? `${results.malformed.length} line(s) of the provider's output could not be read` : null;
    await markEnded(client, id, { status: status.status, succeeded: outcomes.filter((o) => o.ok).length, failed: outcomes.filter((o) => !o.ok).length, error: status.failure ?? unread });
    return wakeProviderJobs(client, jobIds);
  });
}

/** The provider batches of a batch, newest first (404 for a batch that does not exist or expired). */
export async function listProviderBatches(batchId: string): Promise<ProviderBatchInfo[]> {
  await getBatch(batchId);
  const rows = await getPrisma().providerBatch.findMany({
    where: { batchId },
    omit: { batchId: true, baseUrl: true, apiKeyEnv: true, endpoint: true },
    orderBy: { id: "desc" },
    take: 1000,
  });
  return rows.map((r) => ({ ...r, id: String(r.id), provider: r.provider as BatchProvider, nextPollAt: r.endedAt ? null : r.nextPollAt }));
}
