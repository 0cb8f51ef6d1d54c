// One worker cycle in ONE statement (its own transaction, one round trip): write the attempt outcomes
// a worker has gathered, then claim its next jobs in the slots they freed.
//
// Outcomes. The job UPDATE is fenced: it only matches a job still running under this worker's lease
// for this very attempt (its attempts and interruptions: a lapsed lease gives the job back with its
// attempt uncounted), so a late write from a worker that lost its lease (expired, cancelled,
// stopped) changes nothing, even once the same worker has claimed the job again. What it changed feeds the per-second metrics (counts, cost, duration
// histogram), the requeue entries of retried or released jobs, and the batch counters.
//
// Claim.
//  - candidate batches are locked FOR UPDATE (the outcomes' own batches waiting, as their counters
//    move here anyway; others SKIP LOCKED), so the batch's `running` counter read here is exact and
//    no two claimers can both fill the same free slot: per-batch concurrency holds across any number
//    of worker processes; it also makes this the only claimer of those batches' jobs;
//  - a batch of higher priority gets the jobs it can use (its free slots, its ready jobs) before a
//    lower one gets any; batches of equal priority split what is left evenly (least recently claimed
//    first), so a big batch cannot starve a small one; a batch not claimed from for STARVED_AFTER_MS
//    goes first whatever its priority, so a low priority slows a batch down but never stops it;
//  - per batch, due rows of requeued_jobs (retries, released attempts, woken jobs) come first, then
//    the next ordinals from the batch's claim cursor: no index on job status is needed (so job
//    updates stay HOT), and the scan never walks over jobs already claimed;
//  - a batch whose outcomes here may stop it (a failure under error policy "stop" or an error
//    threshold, the budget reached) is not claimed from: the batch check runs first (the caller's
//    settle step), the claim comes next cycle.
//
// Reservations. Beside the jobs for the batch's free slots, a worker may ask for as many again of a
// batch it runs (never more than the batch's concurrency in all workers, none while another batch
// waits, none where a budget or error policy "stop" needs each start to see the latest outcomes).
// A reservation is a running job with started_at NULL, counted in `reserved`, not in `running`. The
// worker starts one only when one of its own jobs of that batch ends, in the slot that job held (still
// counted in `running` until its outcome is written), and reports the start (`promoted`) in the same
// statement as that outcome or an earlier one: reserved -> running, the slot count unchanged. So the
// batch's concurrency holds across workers, and a slot is refilled the moment its job ends, not a
// round trip later.
//
// Both halves move one UPDATE of each batch row (a row may change once per statement) and one of the
// worker's in_flight list (what the lease sweep looks at). The batch rows are locked only for the
// claim and the counters, late in the statement: the outcome half runs beside other claimers. (Its
// job rows are leased to this worker, so only a cancel or a lease sweep can want them too; a deadlock
// with one of those is retried by the caller.)
import type pg from "pg";
import { DURATION_BOUNDS_MS, HISTOGRAM_SIZE } from "./metrics";
import { Deltas, STATE_COLUMNS, type BatchState } from "./transitions";

export interface ClaimedJob {
  id: number;
  batch_id: string;
  record_id: string;
  position: number;
  attempts: number;
  /** runs of this job lost to a crash so far: with `attempts`, it names this attempt for the fence */
  interruptions: number;
  data: unknown;
  /**
   * claimed ahead (a reservation): not in one of the batch's slots yet. The worker starts it only in
   * a slot of the same batch that one of its own jobs frees, and reports that (`promoted`).
   */
  reserved: boolean;
}

export interface Outcome {
  id: number;
  attempts: number;
  /** the claimed job's `interruptions`: a lapsed lease re-runs a job with the same attempt number */
  interruptions: number;
  /** succeeded / failed for good; pending = retry (after delayMs) or release; waiting_input = parked on a prompt */
  status: "succeeded" | "failed" | "pending" | "waiting_input";
  /** give the attempt back (graceful shutdown): the attempt does not count */
  release?: boolean;
  /**
   * the database still holds this job as reserved (claimed ahead, its start not reported): the
   * outcome moves the batch's `reserved` counter instead of `running`
   */
  reserved?: boolean;
  /** the flow's value as JSON text (a success), or what a failure keeps (FlowError's `result`) */
  result?: string | null;
  error?: { code: string; message: string; retryable: boolean } | null;
  cost: number;
  /** this attempt's log lines as JSON text (an array), appended to the job's */
  logs: string | null;
  delayMs: number;
  durationMs: number;
}

export interface ClaimRequest {
  /** jobs wanted (0: only write the outcomes) */
  want: number;
  leaseMs: number;
  /** batches one claim spreads over at most (default 4) */
  maxBatches?: number;
  /**
   * claim nothing unless at least this many jobs can be had (capped at an eighth of the candidate
   * batches' concurrency); default 1
   */
  min?: number;
  /**
   * reservations wanted per batch (batches where this worker runs jobs): granted only while the claim
   * finds no other batch to run (fairness), and up to the batch's concurrency in all workers
   */
  reserve?: ReadonlyMap<string, number>;
}

export interface CycleResult {
  /** outcomes the fence accepted */
  applied: number;
  /** the new state of the batches the outcomes touched */
  states: BatchState[];
  /** what the outcomes moved, per batch */
  deltas: Deltas;
  claimed: ClaimedJob[];
  /**
   * the claim found more than one batch to run: reservations held for one of them keep slots from
   * the others, so the worker gives its reservations back (fairness)
   */
  contended: boolean;
}

// bucket thresholds for width_bucket(): ms <= bound[i] <=> ms < bound[i] + 1, so the SQL bucket of a
// duration equals durationBucket() in ./metrics (integer milliseconds)
const HIST_THRESHOLDS = DURATION_BOUNDS_MS.map((b) => b + 1);

/**
 * A batch with work and a free slot that no claim has taken jobs from for this long goes before
 * every other batch, whatever its priority, until it is claimed from: lower priority slows a batch
 * down, it never stops it.
 */
export const STARVED_AFTER_MS = 60_000;

interface Moved extends BatchState {
  /** outcomes applied */
  n: number;
  m_succeeded: number;
  m_failed: number;
  m_pending: number;
  m_waiting_input: number;
  m_cost: number;
}

// a batch the claim may take jobs from, counted as it stands once this statement's outcomes and
// promotions (a) are in: a free slot, or room for the reservations this worker asks for (q)
const CLAIMABLE = `b.status IN ('pending', 'running') AND b.pending > 0
    AND (b.running - COALESCE(a.run_out, 0) < b.concurrency OR (q.n > 0 AND b.reserved - COALESCE(a.res_out, 0) < b.concurrency))
    AND (b.max_cost IS NULL OR b.cost_spent + COALESCE(a.cost, 0) < b.max_cost)
    AND NOT (COALESCE(a.failed, 0) > 0 AND (b.error_policy = 'stop' OR b.error_threshold_rate IS NOT NULL))`;
const CAND_COLUMNS = `b.id, GREATEST(b.concurrency - b.running + COALESCE(a.run_out, 0), 0) AS free,
         -- none where each start must see the latest outcomes: a budget (its overshoot stays bounded by
         -- the running jobs) or a batch that stops at its first failure
         CASE WHEN b.max_cost IS NULL AND b.error_policy <> 'stop'
              THEN GREATEST(LEAST(COALESCE(q.n, 0), b.concurrency - b.reserved + COALESCE(a.res_out, 0)), 0) ELSE 0 END AS res_free,
         b.concurrency, b.dataset_id, b.priority, b.last_claimed_at, b.created_at, b.claim_cursor, b.total,
         COALESCE(b.last_claimed_at, b.created_at) < now() - make_interval(secs => $20::float8 / 1000) AS starved`;
// claim order: a starved batch first, then by priority, then least recently claimed (round-robin)
const CLAIM_ORDER = "starved DESC, priority DESC, last_claimed_at ASC NULLS FIRST, created_at";

const CYCLE_SQL = `
WITH input AS (
  -- the outcomes arrive as parallel arrays, zipped by ROWS FROM: the plain columns as SQL arrays, the
  -- results and the rare extras (error, logs, retry delay, release) as JSON arrays, a result or log
  -- JSON text going in as it is. (json_to_recordset of one object per outcome, as before, builds a
  -- hash table of each object's keys: 128 outcomes took 0.73-0.82 ms per SELECT over them, these
  -- arrays 0.49-0.57 ms, a SELECT 1 0.05 ms)
  SELECT t.id, t.attempts, t.interruptions, t.status, t.cost, t.duration_ms, t.reserved, t.result,
         t.x->>'error_code' AS error_code, t.x->>'error_message' AS error_message,
         (t.x->>'error_retryable')::bool AS error_retryable, t.x->'logs' AS logs,
         (t.x->>'delay_ms')::float8 AS delay_ms, (t.x->>'release')::bool AS release
  FROM ROWS FROM (unnest($1::bigint[]), unnest($12::int[]), unnest($13::job_status[]), unnest($14::float8[]),
                  unnest($15::int[]), unnest($16::bool[]), jsonb_array_elements($17::jsonb), jsonb_array_elements($18::jsonb),
                  unnest($19::int[]))
    AS t(id, attempts, status, cost, duration_ms, reserved, result, x, interruptions)
  ORDER BY t.id),
upd AS (
  UPDATE jobs j SET
    status = i.status,
    -- a JSON null arrives as SQL NULL: a success stores it as the JSON null it was; a failure keeps
    -- what its flow gave with it (an upstream's error response), if anything
    result = CASE WHEN i.status = 'succeeded' THEN COALESCE(i.result, 'null'::jsonb)
                  WHEN i.status = 'failed' THEN NULLIF(i.result, 'null'::jsonb) END,
    error_code = i.error_code, error_message = i.error_message, error_retryable = i.error_retryable,
    cost = j.cost + i.cost,
    logs = CASE WHEN i.logs IS NULL THEN j.logs ELSE COALESCE(j.logs, '[]'::jsonb) || i.logs END,
    lease_owner = NULL, lease_expires_at = NULL,
    run_at = CASE WHEN i.status = 'pending' THEN now() + make_interval(secs => COALESCE(i.delay_ms, 0) / 1000) ELSE j.run_at END,
    attempts = CASE WHEN COALESCE(i.release, false) OR i.status = 'waiting_input' THEN j.attempts - 1 ELSE j.attempts END,
    finished_at = CASE WHEN i.status IN ('succeeded', 'failed') THEN now() END,
    duration_ms = i.duration_ms,
    -- a reservation that ran and ended before its start was reported: it started duration_ms ago
    started_at = CASE WHEN COALESCE(i.release, false) THEN j.started_at
                      ELSE COALESCE(j.started_at, now() - make_interval(secs => COALESCE(i.duration_ms, 0) / 1000.0)) END
  FROM input i
  -- the worker and the database agree on whether the job is still a reservation (started_at NULL):
  -- the counter the outcome moves depends on it
  WHERE j.id = i.id AND j.status = 'running' AND j.lease_owner = $2 AND j.attempts = i.attempts AND j.interruptions = i.interruptions
    AND (j.started_at IS NULL) = i.reserved
  RETURNING j.id, j.batch_id, j.status, j.run_at, i.cost, i.duration_ms, i.reserved,
            width_bucket(i.duration_ms, $3::int[]) AS hb, j.status IN ('succeeded', 'failed') AS done),
-- reservations this worker started in slots its own jobs of the batch freed (each one's outcome is
-- in this statement or an earlier one): reserved -> running, the slot count unchanged
promoted AS (
  UPDATE jobs j SET started_at = now()
  WHERE j.id = ANY($9::bigint[]) AND j.status = 'running' AND j.lease_owner = $2 AND j.started_at IS NULL
  RETURNING j.batch_id),
-- finished attempts per batch and duration bucket, one pass; then one histogram array per batch
buckets AS (
  SELECT batch_id, hb, count(*)::int AS n FROM upd WHERE done GROUP BY batch_id, hb),
-- what moved per batch: the metrics row and the counters both come from here
agg AS (
  SELECT u.batch_id, count(*)::int AS n, count(*) FILTER (WHERE u.reserved)::int AS n_res,
         count(*) FILTER (WHERE u.status = 'succeeded')::int AS succeeded,
         count(*) FILTER (WHERE u.status = 'failed')::int AS failed,
         count(*) FILTER (WHERE u.status = 'pending')::int AS pending,
         count(*) FILTER (WHERE u.status = 'waiting_input')::int AS waiting_input,
         COALESCE(sum(u.cost), 0)::float8 AS cost,
         COALESCE(sum(u.duration_ms) FILTER (WHERE u.done), 0)::bigint AS dsum,
         (SELECT array_agg(COALESCE(k.n, 0) ORDER BY g)
          FROM generate_series(0, $4::int - 1) g LEFT JOIN buckets k ON k.batch_id = u.batch_id AND k.hb = g) AS hist
  FROM upd u GROUP BY u.batch_id ORDER BY u.batch_id),
metrics AS (
  INSERT INTO batch_metrics (batch_id, bucket, succeeded, failed, cost, duration_sum_ms, duration_hist)
  SELECT batch_id, date_trunc('second', now()), succeeded, failed, cost, dsum, hist
  FROM agg WHERE succeeded > 0 OR failed > 0 OR cost > 0
  ORDER BY batch_id
  ON CONFLICT (batch_id, bucket) DO UPDATE SET
    succeeded = batch_metrics.succeeded + excluded.succeeded, failed = batch_metrics.failed + excluded.failed,
    cost = batch_metrics.cost + excluded.cost, duration_sum_ms = batch_metrics.duration_sum_ms + excluded.duration_sum_ms,
    duration_hist = ARRAY(SELECT COALESCE(a, 0) + COALESCE(b, 0)
                          FROM unnest(batch_metrics.duration_hist, excluded.duration_hist) AS h(a, b))),
requeue AS (
  INSERT INTO requeued_jobs (job_id, batch_id, run_at)
  SELECT id, batch_id, run_at FROM upd WHERE status = 'pending' ORDER BY id
  ON CONFLICT (job_id) DO UPDATE SET run_at = excluded.run_at),
-- per batch, what the outcomes and the promotions move: run_out slots freed (net), res_out
-- reservations gone
mv AS (
  SELECT COALESCE(a.batch_id, p.batch_id) AS batch_id, a.batch_id IS NOT NULL AS had_outcomes,
         COALESCE(a.n - a.n_res, 0) - COALESCE(p.n, 0) AS run_out, COALESCE(a.n_res, 0) + COALESCE(p.n, 0) AS res_out,
         a.n, a.pending, a.waiting_input, a.succeeded, a.failed, a.cost
  FROM agg a FULL JOIN (SELECT batch_id, count(*)::int AS n FROM promoted GROUP BY batch_id) p ON p.batch_id = a.batch_id),
req AS (SELECT * FROM unnest($10::text[], $11::int[]) AS r(batch_id, n)),
-- ---- the claim: counters as they stand once the outcomes above are counted
-- the outcomes' own batches are locked waiting (their counters move below anyway), the others are
-- skipped when locked: another claimer is on them
cand_own AS (
  SELECT ${CAND_COLUMNS} FROM batches b JOIN mv a ON a.batch_id = b.id LEFT JOIN req q ON q.batch_id = b.id
  WHERE $6::int > 0 AND ${CLAIMABLE}
  ORDER BY b.id
  FOR UPDATE OF b),
cand_other AS (
  SELECT ${CAND_COLUMNS} FROM batches b LEFT JOIN mv a ON a.batch_id = b.id LEFT JOIN req q ON q.batch_id = b.id
  WHERE a.batch_id IS NULL AND ${CLAIMABLE}
  ORDER BY ${CLAIM_ORDER}
  LIMIT $6
  FOR UPDATE OF b SKIP LOCKED),
cand AS (
  SELECT * FROM (SELECT * FROM cand_own UNION ALL SELECT * FROM cand_other) c
  ORDER BY ${CLAIM_ORDER}
  LIMIT $6),
-- what each candidate can use: its free slots, no more than the jobs it has ready (the rest of its
-- cursor, then its due requeued jobs, counted only when the cursor alone falls short)
ready AS (
  SELECT c.*, CASE WHEN c.total - c.claim_cursor >= c.free THEN c.free
                   ELSE c.total - c.claim_cursor + (SELECT count(*)::int FROM (
                     SELECT 1 FROM requeued_jobs r WHERE r.batch_id = c.id AND r.run_at <= now()
                     LIMIT c.free - (c.total - c.claim_cursor)) d) END AS usable
  FROM cand c),
-- priority levels (starved, priority): a level gets what the levels above it leave of the wanted
-- jobs; within a level, batches sorted by what they can use, smallest first
levels AS (
  SELECT r.*,
         GREATEST($5::int - (sum(r.usable) OVER (ORDER BY r.starved DESC, r.priority DESC) - sum(r.usable) OVER lvl), 0) AS budget,
         row_number() OVER by_usable AS k, count(*) OVER lvl AS level_size,
         sum(r.usable) OVER (by_usable ROWS UNBOUNDED PRECEDING) - r.usable AS smaller
  FROM ready r
  WINDOW lvl AS (PARTITION BY r.starved, r.priority),
         by_usable AS (PARTITION BY r.starved, r.priority ORDER BY r.usable, r.last_claimed_at ASC NULLS FIRST, r.created_at)),
-- an even split within a level (max-min fair): a batch that can use less than an even share of
-- what is left gets all it can use, the others split the rest evenly
whole AS (
  SELECT l.*, l.smaller + (l.level_size - l.k + 1) * l.usable <= l.budget AS whole FROM levels l),
shares AS (
  SELECT w.*, w.budget - COALESCE(sum(w.usable) FILTER (WHERE w.whole) OVER lvl, 0) AS rest,
         count(*) FILTER (WHERE NOT w.whole) OVER lvl AS sharers,
         row_number() OVER (PARTITION BY w.starved, w.priority, w.whole ORDER BY w.last_claimed_at ASC NULLS FIRST, w.created_at) AS turn
  FROM whole w
  WINDOW lvl AS (PARTITION BY w.starved, w.priority)),
-- reservations only while this claim finds no other batch to run: they keep this worker's slots on
-- the batch, and a batch waiting beside it gets them back within a round
split AS (
  SELECT id, dataset_id, claim_cursor, total, concurrency,
         CASE WHEN whole THEN usable
              ELSE LEAST(usable, rest / sharers + CASE WHEN turn <= rest % sharers THEN 1 ELSE 0 END) END AS n,
         CASE WHEN count(*) OVER () = 1 THEN res_free ELSE 0 END AS res_n
  FROM shares),
-- a claim too small to be worth a round of its own takes nothing: the slots go to the next larger
-- claim (this worker's or another's) instead of one job per statement ping-ponging between workers
ranked AS (
  SELECT id, dataset_id, claim_cursor, total, res_n,
         CASE WHEN sum(n) OVER () >= LEAST($8::int, min(ceil(concurrency / 8.0)) OVER ()) THEN n ELSE 0 END AS n
  FROM split),
requeued AS (
  DELETE FROM requeued_jobs q WHERE q.job_id = ANY(ARRAY(
    SELECT x.job_id FROM ranked r CROSS JOIN LATERAL (
      SELECT job_id FROM requeued_jobs WHERE batch_id = r.id AND run_at <= now() ORDER BY run_at LIMIT r.n + r.res_n) x))
  RETURNING q.job_id, q.batch_id),
span AS (
  SELECT r.id, r.claim_cursor AS lo,
         LEAST(r.total, r.claim_cursor + GREATEST(r.n + r.res_n - (SELECT count(*) FROM requeued q WHERE q.batch_id = r.id), 0))::int AS hi
  FROM ranked r),
-- each batch's first n picked jobs go in slots, the rest are reservations
picked AS (
  SELECT p.id, p.batch_id, row_number() OVER (PARTITION BY p.batch_id ORDER BY p.k) AS seq FROM (
    SELECT job_id AS id, batch_id, -1 AS k FROM requeued
    UNION ALL
    -- ORDER BY + LIMIT in a lateral: always a short walk of the (batch_id, ordinal) index, also under the
    -- prepared statement's generic plan (a plain join was once planned as a scan of all jobs)
    SELECT j.id, s.id, j.ordinal FROM span s CROSS JOIN LATERAL (
      SELECT id, ordinal FROM jobs WHERE batch_id = s.id AND ordinal >= s.lo AND ordinal < s.hi
      ORDER BY ordinal LIMIT GREATEST(s.hi - s.lo, 0)) j) p),
claimed AS (
  UPDATE jobs j SET status = 'running', attempts = j.attempts + 1, lease_owner = $2,
    lease_expires_at = now() + make_interval(secs => $7::float8 / 1000), finished_at = NULL,
    started_at = CASE WHEN j.id = ANY(ARRAY(SELECT p.id FROM picked p JOIN ranked r ON r.id = p.batch_id WHERE p.seq <= r.n))
                      THEN now() END
  -- = ANY(ARRAY(...)) keeps this an index lookup by id: a join on the CTE is planned as a scan of all jobs.
  -- Due-ness is decided above, not here: requeued rows are taken only when due, and a job past the
  -- cursor has never run, so it is due. (Checking run_at <= now() here let the cursor pass a new job
  -- whose run_at, CURRENT_TIMESTAMP rounded to the millisecond, was ahead of this statement's now():
  -- the job stayed pending forever.) A job no longer pending (cancelled) is rightly passed over.
  WHERE j.id = ANY(ARRAY(SELECT id FROM picked)) AND j.status = 'pending'
  RETURNING j.id, j.batch_id, j.record_id, j.position, j.attempts, j.interruptions, j.started_at IS NULL AS reserved),
counts AS (
  SELECT batch_id, count(*)::int AS n, count(*) FILTER (WHERE reserved)::int AS n_res FROM claimed GROUP BY batch_id),
-- ---- one UPDATE per batch row for both halves
moved AS (
  UPDATE batches b SET
    running = b.running - COALESCE(a.run_out, 0) + COALESCE(c.n - c.n_res, 0),
    reserved = b.reserved - COALESCE(a.res_out, 0) + COALESCE(c.n_res, 0),
    pending = b.pending + COALESCE(a.pending, 0) - COALESCE(c.n, 0),
    waiting_input = b.waiting_input + COALESCE(a.waiting_input, 0),
    succeeded = b.succeeded + COALESCE(a.succeeded, 0), failed = b.failed + COALESCE(a.failed, 0),
    cost_spent = b.cost_spent + COALESCE(a.cost, 0),
    claim_cursor = COALESCE(s.hi, b.claim_cursor),
    -- only a batch that got jobs was claimed: one passed over keeps waiting, towards starved
    last_claimed_at = CASE WHEN c.n > 0 THEN now() ELSE b.last_claimed_at END,
    status = (CASE WHEN b.status = 'pending' AND c.n > 0 THEN 'running' ELSE b.status::text END)::batch_status,
    started_at = CASE WHEN c.n > 0 THEN COALESCE(b.started_at, now()) ELSE b.started_at END,
    updated_at = CASE WHEN a.batch_id IS NOT NULL OR c.n > 0 THEN now() ELSE b.updated_at END
  FROM (SELECT batch_id AS id FROM mv UNION SELECT id FROM span) x
    LEFT JOIN mv a ON a.batch_id = x.id
    LEFT JOIN span s ON s.id = x.id
    LEFT JOIN counts c ON c.batch_id = x.id
  WHERE b.id = x.id
  RETURNING ${STATE_COLUMNS.split(",").map((c) => `b.${c.trim()}`).join(", ")}, COALESCE(a.had_outcomes, false) AS had_outcomes,
    COALESCE(a.n, 0) AS n, COALESCE(a.succeeded, 0) AS m_succeeded, COALESCE(a.failed, 0) AS m_failed,
    COALESCE(a.pending, 0) AS m_pending, COALESCE(a.waiting_input, 0) AS m_waiting_input, COALESCE(a.cost, 0) AS m_cost),
-- every outcome leaves the worker's in_flight list, accepted or fenced (then it was not ours anyway);
-- every claimed job joins it
owned AS (
  UPDATE workers SET in_flight = ARRAY(SELECT unnest(in_flight) EXCEPT SELECT id FROM input) || ARRAY(SELECT id FROM claimed)
  WHERE id = $2 AND (EXISTS (SELECT 1 FROM input) OR EXISTS (SELECT 1 FROM claimed))
  RETURNING id
) -- data-modifying CTEs always run, referenced or not
-- one row with the outcomes' batches (id NULL), then a row per claimed job: plain columns, not a JSON
-- object built per job (json_build_object looks up each argument's type on every call)
SELECT NULL::bigint AS id, NULL::text AS batch_id, NULL::text AS record_id, NULL::int AS position, NULL::int AS attempts,
       NULL::int AS interruptions, NULL::bool AS reserved, NULL::jsonb AS data, (SELECT COALESCE(json_agg(m), '[]') FROM moved m WHERE m.had_outcomes) AS batches,
       (SELECT count(*) FROM cand)::int AS candidates
UNION ALL
SELECT c.id, c.batch_id, c.record_id, c.position, c.attempts, c.interruptions, c.reserved,
       (SELECT d.data FROM dataset_records d WHERE d.dataset_id = r.dataset_id AND d.position = c.position), NULL, NULL
FROM claimed c JOIN ranked r ON r.id = c.batch_id`;

const finite = (n: number) => (Number.isFinite(n) ? n : 0);

/** The outcomes as the cycle statement's parallel arrays, as array literals: ids $1, the rest $12-$19. */
interface OutcomeParams {
  ids: string;
  attempts: string;
  interruptions: string;
  statuses: string;
  costs: string;
  durations: string;
  reserved: string;
  /** a JSON array */
  results: string;
  /** a JSON array: per outcome null or {error_code, error_message, error_retryable, logs, delay_ms, release} */
  extras: string;
}

/**
 * The outcomes as the cycle statement's parallel arrays, written directly: `result` and `logs` are
 * JSON text already and go in as they are (no second escaping here), and the extras of an outcome at
 * its defaults are a JSON null.
 */
function outcomeParams(outcomes: readonly Outcome[]): OutcomeParams {
  let ids = "", attempts = "", interruptions = "", statuses = "", costs = "", durations = "", reserved = "", results = "", extras = "";
  for (let k = 0; k < outcomes.length; k++) {
    const o = outcomes[k]!;
    const sep = k ? "," : "";
    ids += sep + finite(o.id);
    attempts += sep + finite(o.attempts);
    interruptions += sep + finite(o.interruptions);
    statuses += sep + o.status;
    costs += sep + finite(o.cost);
    durations += sep + Math.round(finite(o.durationMs));
    reserved += sep + (o.reserved ? "t" : "f");
    results += sep + (o.result ?? "null");
    let x = "";
    if (o.error) x += `,"error_code":${JSON.stringify(o.error.code)},"error_message":${JSON.stringify(o.error.message)},"error_retryable":${o.error.retryable === true}`;
    if (o.logs != null) x += `,"logs":${o.logs}`;
    if (o.delayMs) x += `,"delay_ms":${finite(o.delayMs)}`;
    if (o.release) x += `,"release":true`;
    extras += sep + (x ? `{${x.slice(1)}}` : "null");
  }
  return {
    ids: `{${ids}}`,
    attempts: `{${attempts}}`,
    interruptions: `{${interruptions}}`,
    statuses: `{${statuses}}`,
    costs: `{${costs}}`,
    durations: `{${durations}}`,
    reserved: `{${reserved}}`,
    results: `[${results}]`,
    extras: `[${extras}]`,
  };
}

/**
 * Writes `outcomes` (worker `owner`'s attempts) and the starts of its reservations (`promoted`: job
 * ids), and claims up to `claim.want` jobs for it (plus the reservations it asks for), in one
 * statement, on `client` (inside its transaction) or the pool (then it is its own transaction).
 */
export async function runCycle(
  client: pg.ClientBase | pg.Pool,
  owner: string,
  outcomes: readonly Outcome[],
  claim: ClaimRequest | null,
  promoted: readonly number[] = [],
): Promise<CycleResult> {
  const want = Math.max(0, claim?.want ?? 0);
  const reserve = [...(claim?.reserve ?? [])].filter(([, n]) => n > 0);
  const arrays = outcomeParams(outcomes);
  const { rows } = await client.query<Omit<ClaimedJob, "id"> & { id: number | string; batches: Moved[] | null; candidates: number | null }>({
    name: "batchboard_cycle",
    text: CYCLE_SQL,
    values: [
      arrays.ids,
      owner,
      HIST_THRESHOLDS,
      HISTOGRAM_SIZE,
      want,
      // two at least where reservations are asked for: they are granted only when no other batch is found
      want > 0 || reserve.length ? Math.max(reserve.length ? 2 : 1, Math.min(claim?.maxBatches ?? 4, Math.max(want, 1))) : 0,
      claim?.leaseMs ?? 0,
      Math.max(1, claim?.min ?? 1),
      promoted,
      reserve.map(([b]) => b),
      reserve.map(([, n]) => n),
      arrays.attempts,
      arrays.statuses,
      arrays.costs,
      arrays.durations,
      arrays.reserved,
      arrays.results,
      arrays.extras,
      arrays.interruptions,
      STARVED_AFTER_MS,
    ],
  });
  let batches: Moved[] = [];
  let candidates = 0;
  const jobs: ClaimedJob[] = [];
  for (const r of rows) {
    if (r.batches) {
      batches = r.batches;
      candidates = r.candidates ?? 0;
    }
    // Number(): a bigint arrives as a string from a client whose pg copy lacks lib/db/client's int8
    // parser, and an outcome with a string id would be written for job 0 (fenced, the job stuck)
    else jobs.push({ id: Number(r.id), batch_id: r.batch_id, record_id: r.record_id, position: r.position, attempts: r.attempts, interruptions: r.interruptions, data: r.data, reserved: r.reserved === true });
  }
  const deltas = new Deltas();
  let applied = 0;
  for (const r of batches) {
    applied += r.n;
    deltas
      .move(r.id, "running", "succeeded", r.m_succeeded)
      .move(r.id, "running", "failed", r.m_failed)
      .move(r.id, "running", "pending", r.m_pending)
      .move(r.id, "running", "waiting_input", r.m_waiting_input)
      .addCost(r.id, r.m_cost);
  }
  return { applied, states: batches, deltas, claimed: jobs, contended: candidates > 1 };
}
