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
import { getPrisma } from "@/lib/db/client";
import type { ProviderBatch } from "@/lib/generated/prisma/client";
import { query, withTx } from "./db";
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

/**
 * SQL: when a provider batch's next poll is due after `polls` (an SQL expression) polls: from
 * BATCHBOARD_PROVIDER_POLL_MS, 1.5 times longer each poll, at most BATCHBOARD_PROVIDER_POLL_MAX_MS.
 */
function nextPollSql(polls: string): string {
  const { BATCHBOARD_PROVIDER_POLL_MS: first, BATCHBOARD_PROVIDER_POLL_MAX_MS: max } = getConfig();
  return `now() + make_interval(secs => LEAST(${max}::float8, ${first}::float8 * power(1.5, ${polls})) / 1000)`;
}

/** provider_status of a provider batch recorded before the provider was asked, until its id is known */
export const SUBMITTING = "submitting";

/**
 * Records a provider batch about to be submitted and the job attempts it holds, before the provider
 * is asked: state "submitting", no provider id, recovered after `holdMs` unless recorded by then
 * (recoverSubmission). A job sent again (a later attempt) moves to the new provider batch; its
 * earlier outcome is dropped. Returns our id of the submission, sent as the provider batch's metadata.
 */
export async function reserveProviderBatch(batchId: string, target: SubmissionTarget, jobs: readonly { id: number; attempts: number }[], holdMs: number): Promise<string> {
  return withTx(async (client) => {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO provider_batches (batch_id, provider, base_url, api_key_env, endpoint, provider_batch_id, provider_status, requests, next_poll_at)
       VALUES ($1, $2, $3, $4, $5, NULL, '${SUBMITTING}', $6, now() + make_interval(secs => $7::float8 / 1000)) RETURNING id`,
      [batchId, target.provider, target.baseUrl, target.apiKeyEnv ?? null, target.endpoint, jobs.length, holdMs],
    );
    // a string whatever the driver makes of a bigint: metadata values are strings
    const id = String(rows[0]!.id);
    await client.query(
      `INSERT INTO provider_requests (job_id, provider_batch_id, attempt)
       SELECT job_id, $1, attempt FROM unnest($2::bigint[], $3::int[]) AS t(job_id, attempt) ORDER BY job_id
       ON CONFLICT (job_id) DO UPDATE SET provider_batch_id = excluded.provider_batch_id, attempt = excluded.attempt, outcome = NULL`,
      [id, jobs.map((j) => j.id), jobs.map((j) => j.attempts)],
    );
    return id;
  });
}

/**
 * The provider took submission `id`: its provider id and state, polled from now on. False when the
 * submission was recovered meanwhile (it ended: its records are sent again).
 */
export async function recordProviderBatch(id: string, status: ProviderBatchStatus): Promise<boolean> {
  const { rowCount } = await query(
    `UPDATE provider_batches SET provider_batch_id = $2, provider_status = $3, expires_at = $4, submitted_at = now(), next_poll_at = ${nextPollSql("0")}
     WHERE id = $1 AND provider_batch_id IS NULL AND ended_at IS NULL`,
    [id, status.id, status.status, status.expiresAt],
  );
  return rowCount === 1;
}

/**
 * Submission `id` failed with `error`. The provider created nothing (it answered, or nothing was
 * sent): the submission and its requests are forgotten, the jobs fail or retry as the caller's error
 * says. Maybe created (no answer): recovered at the next poll.
 */
export async function failProviderBatch(id: string, error: string, created: false | "maybe"): Promise<void> {
  if (created === false) {
    await query(`DELETE FROM provider_batches WHERE id = $1 AND provider_batch_id IS NULL AND ended_at IS NULL`, [id]);
    return;
  }
  await query(`UPDATE provider_batches SET error = $2, next_poll_at = now() WHERE id = $1 AND provider_batch_id IS NULL AND ended_at IS NULL`, [id, `submission failed: ${error}`.slice(0, 2000)]);
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
  const { rows } = await query<{ job_id: string; outcome: (ProviderOutcome & { released?: boolean }) | null; ended: boolean }>(
    `SELECT r.job_id, r.outcome, pb.ended_at IS NOT NULL AS ended
     FROM unnest($1::bigint[], $2::int[]) AS asked(job_id, attempt)
     JOIN provider_requests r ON r.job_id = asked.job_id AND r.attempt = asked.attempt
     JOIN provider_batches pb ON pb.id = r.provider_batch_id`,
    [jobs.map((j) => j.id), jobs.map((j) => j.attempts)],
  );
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
  return wakeParked(client, jobIds, "waiting_provider", `EXISTS (SELECT 1 FROM provider_requests r WHERE r.job_id = j.id AND r.outcome IS NOT NULL)`);
}

interface DueRow {
  id: string;
  batch_id: string;
  provider: BatchProvider;
  base_url: string;
  api_key_env: string | null;
  /** null: a submission not recorded in time (recovered) */
  provider_batch_id: string | null;
  submitted_at: Date;
  error: string | null;
  cancel_requested_at: Date | null;
  batch_status: BatchStatus;
}

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
  const { rows } = await query<DueRow>(
    `WITH due AS (
       SELECT id FROM provider_batches WHERE ended_at IS NULL AND next_poll_at <= now()
       ORDER BY next_poll_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     UPDATE provider_batches pb SET polls = pb.polls + 1,
       next_poll_at = ${nextPollSql("pb.polls + 1")}
     FROM due JOIN batches batch ON true
     WHERE pb.id = due.id AND batch.id = pb.batch_id
     RETURNING pb.id, pb.batch_id, pb.provider, pb.base_url, pb.api_key_env, pb.provider_batch_id, pb.submitted_at, pb.error, pb.cancel_requested_at,
               batch.status AS batch_status`,
    [limit],
  );
  let ended = 0;
  for (const row of rows) {
    try {
      if (await pollOne(row, log)) ended++;
    } catch (err) {
      const message = (err as Error).message;
      log(`provider batch ${row.provider_batch_id ?? `submission ${row.id}`} (${row.provider}): poll failed, tried again later: ${message}`);
      await query(`UPDATE provider_batches SET error = $2 WHERE id = $1`, [row.id, `last poll failed: ${message}`.slice(0, 2000)]);
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
    await query(`UPDATE provider_batches SET cancel_requested_at = now() WHERE id = $1`, [row.id]);
    if (!status.ended) status = await client.get(conn, row.provider_batch_id);
  }
  if (!status.ended) {
    await query(
      `UPDATE provider_batches SET provider_status = $2, succeeded = $3, failed = $4, expires_at = COALESCE($5, expires_at), error = NULL WHERE id = $1`,
      [row.id, status.status, status.counts.succeeded, status.counts.failed, status.expiresAt],
    );
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
    const { rowCount } = await query(
      `UPDATE provider_batches SET provider_batch_id = $2, provider_status = $3, expires_at = $4, error = NULL, next_poll_at = now()
       WHERE id = $1 AND provider_batch_id IS NULL AND ended_at IS NULL`,
      [row.id, found.id, found.status, found.expiresAt],
    );
    if (rowCount === 1) log(`submission ${row.id} (${row.provider}): adopted provider batch ${found.id}, found by its metadata`);
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
    const requests = await client.query<{ job_id: string }>(
      `SELECT job_id FROM provider_requests WHERE provider_batch_id = $1 ORDER BY job_id`,
      [id],
    );
    const jobIds = requests.rows.map((r) => Number(r.job_id));
    // the jobs first, in id order, as the worker cycle locks them: a park written concurrently either
    // lands before (and is woken below) or after (and sees the outcomes when it looks: writeOutcomes)
    await client.query(`SELECT id FROM jobs WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`, [jobIds]);
    // another poller finished it; or, recovering a submission (no provider id), its submitter recorded it meanwhile
    const gone = await client.query(
      `SELECT 1 FROM provider_batches WHERE id = $1 AND ended_at IS NULL AND provider_batch_id IS NOT DISTINCT FROM NULLIF($2, '') FOR UPDATE`,
      [id, status.id],
    );
    if (gone.rowCount === 0) return 0;
    const outcomes = jobIds.map((jobId) => {
      const customId = customIdOf(jobId);
      const outcome = results.outcomes.get(customId) ?? missing(customId);
      return cancelledByUs && !outcome.ok && outcome.code === "provider_batch_cancelled" ? { ...outcome, released: true } : outcome;
    });
    await client.query(
      `UPDATE provider_requests r SET outcome = t.outcome
       FROM (SELECT * FROM unnest($2::bigint[]) WITH ORDINALITY AS ids(job_id, n)
             JOIN jsonb_array_elements($3::jsonb) WITH ORDINALITY AS o(outcome, n) USING (n)) t
       WHERE r.job_id = t.job_id AND r.provider_batch_id = $1`,
      [id, jobIds, JSON.stringify(outcomes)],
    );
    const unread = results.malformed.length ? `${results.malformed.length} line(s) of the provider's output could not be read` : null;
    await client.query(
      `UPDATE provider_batches SET ended_at = now(), provider_status = $2, succeeded = $3, failed = $4, error = $5 WHERE id = $1`,
      [id, status.status, outcomes.filter((o) => o.ok).length, outcomes.filter((o) => !o.ok).length, status.failure ?? unread],
    );
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
