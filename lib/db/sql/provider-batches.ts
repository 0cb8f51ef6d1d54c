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

/** The job attempts a submitter claimed and sends (as claimed: attempts and interruptions name the attempt), and the submitter. */
export interface SubmissionHolder {
  owner: string;
  jobs: readonly { id: number; attempts: number; interruptions: number }[];
}

const holderParams = (h: SubmissionHolder) => [h.owner, h.jobs.map((j) => j.id), h.jobs.map((j) => j.attempts), h.jobs.map((j) => j.interruptions)];

/**
 * SQL: every job attempt of the holder (parameters $n..$n+3: owner, ids, attempts, interruptions) is
 * still its own (running under it, the very attempt it claimed), or parked on submission `$sub` for
 * that attempt (the worker that took it over after a lapsed lease found this submission holding it:
 * the submission is what the record waits for now).
 */
function ownedSql(sub: string, n: number): string {
  return `(SELECT coalesce(bool_and(
       (j.status = 'running' AND j.lease_owner = $${n} AND j.attempts = t.attempts AND j.interruptions = t.interruptions)
       OR (j.status = 'waiting_provider' AND j.attempts = t.attempts - 1 AND r.provider_batch_id = ${sub} AND r.attempt = t.attempts)), false)
     FROM unnest($${n + 1}::bigint[], $${n + 2}::int[], $${n + 3}::int[]) AS t(job_id, attempts, interruptions)
     LEFT JOIN jobs j ON j.id = t.job_id LEFT JOIN provider_requests r ON r.job_id = t.job_id)`;
}

/**
 * Locks the holder's jobs (id order, as the worker cycle locks them) and says whether each is still
 * running under it at the attempt it claimed: a submission is reserved only by the records' owner.
 */
export async function lockOwnedJobs(db: Queryable, h: SubmissionHolder): Promise<boolean> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT j.id FROM jobs j JOIN unnest($2::bigint[], $3::int[], $4::int[]) AS t(job_id, attempts, interruptions) ON j.id = t.job_id
     WHERE j.status = 'running' AND j.lease_owner = $1 AND j.attempts = t.attempts AND j.interruptions = t.interruptions
     ORDER BY j.id FOR UPDATE OF j`,
    holderParams(h),
  );
  return rows.length === new Set(h.jobs.map((j) => j.id)).size;
}

/**
 * The provider took the submission: its id and state, polled from now on. "recorded" (also when a
 * recovery already adopted this very provider batch); "lost": still open, but its records are no
 * longer the holder's (not recorded: the caller cancels it at the provider); "gone": recovered
 * meanwhile and ended. Without a holder the records' owner is not asked.
 */
export async function recordSubmission(
  db: Queryable,
  id: string,
  status: { id: string; status: string; expiresAt: Date | null },
  b: PollBackoff,
  holder: SubmissionHolder | null,
): Promise<"recorded" | "lost" | "gone"> {
  const { rowCount } = await db.query(
    `UPDATE provider_batches SET provider_batch_id = $2, provider_status = $3, expires_at = $4, submitted_at = now(), next_poll_at = ${nextPollSql("0", b)}
     WHERE id = $1 AND provider_batch_id IS NULL AND ended_at IS NULL AND ($5::text IS NULL OR ${ownedSql("$1", 5)})`,
    [id, status.id, status.status, status.expiresAt, ...(holder ? holderParams(holder) : [null, [], [], []])],
  );
  if (rowCount === 1) return "recorded";
  // a recovery already adopted this very provider batch: it stands
  const { rows } = await db.query<{ provider_batch_id: string | null; ended: boolean }>(
    `SELECT provider_batch_id, ended_at IS NOT NULL AS ended FROM provider_batches WHERE id = $1`,
    [id],
  );
  const row = rows[0];
  if (row?.provider_batch_id === status.id) return "recorded";
  return row && !row.ended && row.provider_batch_id === null ? "lost" : "gone";
}

/**
 * The submitter of a submission is still at it: its hold runs `holdMs` from now, unless it was
 * recorded, failed, or its hold lapsed (and, with `requireOwned`, unless its records are no longer the
 * holder's). `owned`: whether they still are.
 */
export async function holdSubmission(db: Queryable, id: string, holdMs: number, holder: SubmissionHolder, requireOwned: boolean): Promise<{ held: boolean; owned: boolean }> {
  const { rows } = await db.query<{ held: boolean; owned: boolean }>(
    `WITH owned AS (SELECT ${ownedSql("$1", 4)} AS ok),
     held AS (
       UPDATE provider_batches SET next_poll_at = now() + make_interval(secs => $2::float8 / 1000)
       WHERE id = $1 AND provider_batch_id IS NULL AND ended_at IS NULL AND error IS NULL AND next_poll_at > now()
         AND (NOT $3::bool OR (SELECT ok FROM owned))
       RETURNING 1)
     SELECT EXISTS (SELECT 1 FROM held) AS held, (SELECT ok FROM owned) AS owned`,
    [id, holdMs, requireOwned, ...holderParams(holder)],
  );
  return rows[0]!;
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
