// Provider batch offload (lib/engine/provider-batches.ts): which provider batch each job attempt went
// in, and their polling. SQL because a due provider batch is claimed with FOR UPDATE SKIP LOCKED and
// its next poll moved out in the same statement (a backoff on the database's clock), outcomes are
// stored for many jobs at once (unnest joined WITH ORDINALITY to a jsonb array), the jobs are locked
// in id order as the worker cycle locks them, and requests are upserted (ON CONFLICT) to the attempt
// sent last.
import type { Queryable } from "./queryable";

/** provider_status of a provider batch recorded before the provider was asked, until its id is known */
export const SUBMITTING = "submitting";

/** The poll backoff: the first wait and the longest, in ms. */
export interface PollBackoff {
  firstMs: number;
  maxMs: number;
}

/** SQL: when the next poll is due after `polls` (an SQL expression) polls: `firstMs` 1.5 times longer each poll, at most `maxMs`. */
function nextPollSql(polls: string, b: PollBackoff): string {
  return `now() + make_interval(secs => LEAST(${Number(b.maxMs)}::float8, ${Number(b.firstMs)}::float8 * power(1.5, ${polls})) / 1000)`;
}

/** A submission about to be sent ('submitting', no provider id), recovered after `holdMs` unless recorded or held again; its id. */
export async function insertSubmission(
  db: Queryable,
  s: { batchId: string; provider: string; baseUrl: string; apiKeyEnv?: string | null; endpoint: string; requests: number; holdMs: number },
): Promise<string | number> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO provider_batches (batch_id, provider, base_url, api_key_env, endpoint, provider_batch_id, provider_status, requests, next_poll_at)
       VALUES ($1, $2, $3, $4, $5, NULL, '${SUBMITTING}', $6, now() + make_interval(secs => $7::float8 / 1000)) RETURNING id`,
    [s.batchId, s.provider, s.baseUrl, s.apiKeyEnv ?? null, s.endpoint, s.requests, s.holdMs],
  );
  return rows[0]!.id;
}

/** The job attempts a submission holds; a job sent again moves to it, its earlier outcome dropped. */
export async function insertProviderRequests(db: Queryable, submissionId: string, jobs: readonly { id: number; attempts: number }[]): Promise<void> {
  await db.query(
    `INSERT INTO provider_requests (job_id, provider_batch_id, attempt)
       SELECT job_id, $1, attempt FROM unnest($2::bigint[], $3::int[]) AS t(job_id, attempt) ORDER BY job_id
       ON CONFLICT (job_id) DO UPDATE SET provider_batch_id = excluded.provider_batch_id, attempt = excluded.attempt, outcome = NULL`,
    [submissionId, jobs.map((j) => j.id), jobs.map((j) => j.attempts)],
  );
}

/** The provider took the submission: its id and state, polled from now on; false when it was recovered meanwhile. */
export async function recordSubmission(db: Queryable, id: string, status: { id: string; status: string; expiresAt: Date | null }, b: PollBackoff): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE provider_batches SET provider_batch_id = $2, provider_status = $3, expires_at = $4, submitted_at = now(), next_poll_at = ${nextPollSql("0", b)}
     WHERE id = $1 AND provider_batch_id IS NULL AND ended_at IS NULL`,
    [id, status.id, status.status, status.expiresAt],
  );
  if (rowCount === 1) return true;
  // a recovery already adopted this very provider batch: it stands
  const adopted = await db.query(`SELECT 1 FROM provider_batches WHERE id = $1 AND provider_batch_id = $2`, [id, status.id]);
  return adopted.rowCount === 1;
}

/** The submitter of a submission is still at it: its hold runs `holdMs` from now, unless it was recorded, failed, or its hold lapsed. */
export async function holdSubmission(db: Queryable, id: string, holdMs: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE provider_batches SET next_poll_at = now() + make_interval(secs => $2::float8 / 1000)
     WHERE id = $1 AND provider_batch_id IS NULL AND ended_at IS NULL AND error IS NULL AND next_poll_at > now()`,
    [id, holdMs],
  );
  return rowCount === 1;
}

/** Forgets a submission the provider created nothing for. */
export async function forgetSubmission(db: Queryable, id: string): Promise<void> {
  await db.query(`DELETE FROM provider_batches WHERE id = $1 AND provider_batch_id IS NULL AND ended_at IS NULL`, [id]);
}

/** A submission that may have been created: recovered at the next poll. */
export async function markSubmissionFailed(db: Queryable, id: string, error: string): Promise<void> {
  await db.query(`UPDATE provider_batches SET error = $2, next_poll_at = now() WHERE id = $1 AND provider_batch_id IS NULL AND ended_at IS NULL`, [id, error]);
}

/** For the job attempts asked: the stored outcome, and whether their provider batch ended. */
export async function requestStates<O>(db: Queryable, jobs: readonly { id: number; attempts: number }[]): Promise<{ job_id: string; outcome: O | null; ended: boolean }[]> {
  const { rows } = await db.query<{ job_id: string; outcome: O | null; ended: boolean }>(
    `SELECT r.job_id, r.outcome, pb.ended_at IS NOT NULL AS ended
     FROM unnest($1::bigint[], $2::int[]) AS asked(job_id, attempt)
     JOIN provider_requests r ON r.job_id = asked.job_id AND r.attempt = asked.attempt
     JOIN provider_batches pb ON pb.id = r.provider_batch_id`,
    [jobs.map((j) => j.id), jobs.map((j) => j.attempts)],
  );
  return rows;
}

/** SQL over a parked job `j`: its provider outcome is stored (wakeParked's condition). */
export const HAS_PROVIDER_OUTCOME = `EXISTS (SELECT 1 FROM provider_requests r WHERE r.job_id = j.id AND r.outcome IS NOT NULL)`;

/** A due provider batch as its poller reads it, with its batch's status. */
export interface DueProviderBatch<P extends string, S extends string> {
  id: string;
  batch_id: string;
  provider: P;
  base_url: string;
  api_key_env: string | null;
  /** null: a submission not recorded in time (recovered) */
  provider_batch_id: string | null;
  submitted_at: Date;
  error: string | null;
  cancel_requested_at: Date | null;
  batch_status: S;
}

/** Claims up to `limit` due provider batches (another poller skips them): their next poll moves out first. */
export async function claimDueProviderBatches<P extends string, S extends string>(db: Queryable, limit: number, b: PollBackoff): Promise<DueProviderBatch<P, S>[]> {
  const { rows } = await db.query<DueProviderBatch<P, S>>(
    `WITH due AS (
       SELECT id FROM provider_batches WHERE ended_at IS NULL AND next_poll_at <= now()
       ORDER BY next_poll_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     UPDATE provider_batches pb SET polls = pb.polls + 1,
       next_poll_at = ${nextPollSql("pb.polls + 1", b)}
     FROM due JOIN batches batch ON true
     WHERE pb.id = due.id AND batch.id = pb.batch_id
     RETURNING pb.id, pb.batch_id, pb.provider, pb.base_url, pb.api_key_env, pb.provider_batch_id, pb.submitted_at, pb.error, pb.cancel_requested_at,
               batch.status AS batch_status`,
    [limit],
  );
  return rows;
}

export async function setProviderBatchError(db: Queryable, id: string, error: string): Promise<void> {
  await db.query(`UPDATE provider_batches SET error = $2 WHERE id = $1`, [id, error]);
}

export async function markCancelRequested(db: Queryable, id: string): Promise<void> {
  await db.query(`UPDATE provider_batches SET cancel_requested_at = now() WHERE id = $1`, [id]);
}

/** A provider batch still running: its state and counts. */
export async function recordProgress(
  db: Queryable,
  id: string,
  status: { status: string; counts: { succeeded: number; failed: number }; expiresAt: Date | null },
): Promise<void> {
  await db.query(
    `UPDATE provider_batches SET provider_status = $2, succeeded = $3, failed = $4, expires_at = COALESCE($5, expires_at), error = NULL WHERE id = $1`,
    [id, status.status, status.counts.succeeded, status.counts.failed, status.expiresAt],
  );
}

/** Adopts the provider batch found for a submission not recorded in time; false when its submitter recorded it meanwhile. */
export async function adoptProviderBatch(db: Queryable, id: string, found: { id: string; status: string; expiresAt: Date | null }): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE provider_batches SET provider_batch_id = $2, provider_status = $3, expires_at = $4, error = NULL, next_poll_at = now()
       WHERE id = $1 AND provider_batch_id IS NULL AND ended_at IS NULL`,
    [id, found.id, found.status, found.expiresAt],
  );
  return rowCount === 1;
}

/** The jobs a provider batch holds, in id order. */
export async function requestJobIds(db: Queryable, id: string): Promise<number[]> {
  const { rows } = await db.query<{ job_id: string }>(
    `SELECT job_id FROM provider_requests WHERE provider_batch_id = $1 ORDER BY job_id`,
    [id],
  );
  return rows.map((r) => Number(r.job_id));
}

/** Locks jobs in id order, as the worker cycle locks them. */
export async function lockJobsById(db: Queryable, jobIds: number[]): Promise<void> {
  await db.query(`SELECT id FROM jobs WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`, [jobIds]);
}

/** Locks a provider batch not ended whose provider id is still `providerId` ('' for none); false when another poller finished it. */
export async function lockOpenProviderBatch(db: Queryable, id: string, providerId: string): Promise<boolean> {
  const gone = await db.query(
    `SELECT 1 FROM provider_batches WHERE id = $1 AND ended_at IS NULL AND provider_batch_id IS NOT DISTINCT FROM NULLIF($2, '') FOR UPDATE`,
    [id, providerId],
  );
  return gone.rowCount !== 0;
}

/** Stores each job's outcome (in the order of `jobIds`). */
export async function storeOutcomes(db: Queryable, id: string, jobIds: number[], outcomes: unknown[]): Promise<void> {
  await db.query(
    `UPDATE provider_requests r SET outcome = t.outcome
       FROM (SELECT * FROM unnest($2::bigint[]) WITH ORDINALITY AS ids(job_id, n)
             JOIN jsonb_array_elements($3::jsonb) WITH ORDINALITY AS o(outcome, n) USING (n)) t
       WHERE r.job_id = t.job_id AND r.provider_batch_id = $1`,
    [id, jobIds, JSON.stringify(outcomes)],
  );
}

export async function markEnded(db: Queryable, id: string, e: { status: string; succeeded: number; failed: number; error: string | null }): Promise<void> {
  await db.query(
    `UPDATE provider_batches SET ended_at = now(), provider_status = $2, succeeded = $3, failed = $4, error = $5 WHERE id = $1`,
    [id, e.status, e.succeeded, e.failed, e.error],
  );
}
