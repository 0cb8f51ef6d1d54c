-- The worker cycle: one statement (one round trip, one transaction) that writes the outcomes of the
-- attempts a worker finished, then claims its next jobs in the slots they freed.
--
-- Parameters:
--   $1  worker_id              text          the worker: lease owner of the outcomes' jobs and of the claimed ones
--   $2  lease_ms               float8        how long the claimed jobs are leased
--   the outcomes, one element per finished attempt in each array:
--   $3  outcome_job_ids        bigint[]
--   $4  outcome_attempts       int[]         the job's attempts and interruptions as claimed: they name
--   $5  outcome_interruptions  int[]         the attempt, for the fence
--   $6  outcome_statuses       job_status[]  succeeded | failed | pending (retry or release) | waiting_input |
--                                            waiting_provider (parked on a question, or on a provider batch)
--   $7  outcome_costs          float8[]
--   $8  outcome_durations_ms   int[]
--   $9  outcome_reserved       bool[]        the worker still holds the job as a reservation (start not reported)
--   $10 outcome_results        jsonb         an array: the flow's value (a success), what a failure keeps, or null
--   $11 outcome_extras         jsonb         an array: null, or {error_code, error_message, error_retryable,
--                                            logs, delay_ms, release} where an outcome has them
--   $12 promoted_job_ids       bigint[]      reservations the worker started in slots its own jobs freed
--   the claim:
--   $13 want                   int           calls wanted in free slots (0: none): one job each, or up to
--                                            chunk_size jobs of a chunked batch
--   $14 max_batches            int           batches one claim spreads over at most (0: claim nothing)
--   $15 min_claim              int           claim nothing unless this many jobs can be had (capped at an
--                                            eighth of the candidates' concurrency)
--   $16 reserve_batch_ids      text[]        reservations asked for: how many per batch
--   $17 reserve_counts         int[]
--   $18 starved_after_ms       float8        a batch not claimed from for this long goes first
--   the per-second metrics:
--   $19 duration_thresholds    int[]         the histogram's bucket thresholds (width_bucket)
--   $20 histogram_size         int
--
-- Result: one row with `batches` (the new state of the outcomes' batches, JSON) and `candidates`
-- (how many batches the claim found), then one row per claimed job with its record's data and, for a
-- chunked batch, its call.
--
-- Chunks: a batch with chunk_size c > 1 (a flow with runChunk) counts its concurrency in calls of up
-- to c jobs, exactly: a call may hold fewer than c (the batch's last records, retries coming back one
-- by one, a call whose other records ended). The claim numbers each call it makes (the batch's
-- next_call_id), marks its jobs with it (jobs.call_id), and opens a row for it in batch_calls with
-- the number of its jobs (open_jobs); the worker runs each call as claimed. A call is in flight while
-- one of its jobs still runs in it, whatever took the others out of running: every statement that
-- takes a job of a call out of running counts it out of its call's row (here the outcomes; a cancel,
-- a stop, the lease sweep, a reservation taken back in lib/db/sql), and a call is in flight while its
-- row has open_jobs > 0 (a row at 0 goes at the next cycle on its batch, or at the batch's finish).
-- The claim counts a candidate's rows still open once this statement's outcomes are out
-- (`own_candidates`, `other_candidates`: an index range of at most the batch's calls, never its
-- jobs), plus the calls claimed by statements this one's snapshot predates (next_call_id as locked
-- minus as seen), so a call is never freed before it ends; it admits new calls only while fewer than
-- `concurrency` are in flight. A chunked batch takes no reservations. With c = 1 every formula below
-- is the one-job-per-slot one and no call is recorded.
--
-- Locks: job rows leased to this worker first (only a cancel or a lease sweep can want them too: a
-- deadlock with one is retried by the caller), batch rows late, for the claim and the counters, and a
-- chunked batch's batch_calls rows last, under its batch row's lock (`calls_opened` and the stages
-- after it are not read, so they run once the result is made; every other statement that moves them
-- holds the batch row first too). Every batch row is updated once (a row may change only once per
-- statement), in `batches_moved`, which holds all the counter arithmetic. Data-modifying stages run
-- whether or not they are read.
--
-- Reservations: beside the jobs for a batch's free slots, a worker alone on a batch may claim as
-- many again (never past the batch's concurrency in all workers). A reservation is a running job
-- with started_at NULL, counted in `reserved`, not in `running`; the worker starts it only when one
-- of its own jobs of that batch ends, in the slot that job held, and reports the start
-- ($12 promoted_job_ids) with that outcome or a later one. So a slot is refilled the moment its job
-- ends, not a round trip later, and the batch's concurrency still holds across workers.
--
-- To run it in psql (from the repository's root; \bind works too, on psql 16 and later):
--   \set cycle `cat lib/db/sql/cycle.sql`
--   PREPARE cycle AS :cycle;
--   EXECUTE cycle('worker-1', 30000, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '[]', '[]', '{}',
--                 64, 4, 1, '{}', '{}', 60000, '{1,2,3}', 4);
WITH
-- When this statement runs: the start of the jobs it starts and of a batch's first claim. Not now():
-- that is when the transaction began, before the statement's locks were granted and its snapshot
-- taken, so a batch committed in between would start before it was created.
moment AS MATERIALIZED (SELECT clock_timestamp() AS at),

-- The outcomes as rows, zipped from the parallel arrays in job id order (the order rows are locked).
outcome AS (
  SELECT arrays.job_id, arrays.attempts, arrays.interruptions, arrays.status, arrays.cost, arrays.duration_ms,
         arrays.reserved, arrays.result,
         arrays.extra->>'error_code' AS error_code, arrays.extra->>'error_message' AS error_message,
         (arrays.extra->>'error_retryable')::bool AS error_retryable, arrays.extra->'logs' AS logs,
         (arrays.extra->>'delay_ms')::float8 AS delay_ms, COALESCE((arrays.extra->>'release')::bool, false) AS release
  FROM ROWS FROM (unnest($3::bigint[]), unnest($4::int[]), unnest($5::int[]), unnest($6::job_status[]),
                  unnest($7::float8[]), unnest($8::int[]), unnest($9::bool[]),
                  jsonb_array_elements($10::jsonb), jsonb_array_elements($11::jsonb))
    AS arrays(job_id, attempts, interruptions, status, cost, duration_ms, reserved, result, extra)
  ORDER BY arrays.job_id),

-- Fence: an outcome is written only to a job still running under this worker's lease for this very
-- attempt, held as the reservation or slot job the worker says it is. A late write from a worker
-- that lost its lease (expired, cancelled, stopped) changes nothing, even once the same worker has
-- claimed the job again. A released or parked attempt does not count.
written AS (
  UPDATE jobs job SET
    status = outcome.status,
    -- a success stores its value (a JSON null as JSON null); a failure keeps what its flow gave, if anything
    result = CASE WHEN outcome.status = 'succeeded' THEN COALESCE(outcome.result, 'null'::jsonb)
                  WHEN outcome.status = 'failed' THEN NULLIF(outcome.result, 'null'::jsonb) END,
    error_code = outcome.error_code, error_message = outcome.error_message, error_retryable = outcome.error_retryable,
    cost = job.cost + outcome.cost,
    logs = CASE WHEN outcome.logs IS NULL THEN job.logs ELSE COALESCE(job.logs, '[]'::jsonb) || outcome.logs END,
    lease_owner = NULL, lease_expires_at = NULL,
    run_at = CASE WHEN outcome.status = 'pending' THEN now() + make_interval(secs => COALESCE(outcome.delay_ms, 0) / 1000)
                  ELSE job.run_at END,
    attempts = CASE WHEN outcome.release OR outcome.status IN ('waiting_input', 'waiting_provider') THEN job.attempts - 1 ELSE job.attempts END,
    finished_at = CASE WHEN outcome.status IN ('succeeded', 'failed') THEN now() END,
    duration_ms = outcome.duration_ms,
    -- a reservation that ran and ended before its start was reported started duration_ms ago
    started_at = CASE WHEN outcome.release THEN job.started_at
                      ELSE COALESCE(job.started_at, now() - make_interval(secs => COALESCE(outcome.duration_ms, 0) / 1000.0)) END
  FROM outcome
  WHERE job.id = outcome.job_id AND job.status = 'running' AND job.lease_owner = $1
    AND job.attempts = outcome.attempts AND job.interruptions = outcome.interruptions
    AND (job.started_at IS NULL) = outcome.reserved
  RETURNING job.id, job.batch_id, job.status, job.run_at, outcome.cost, outcome.duration_ms, outcome.reserved,
            width_bucket(outcome.duration_ms, $19::int[]) AS duration_bucket, job.status IN ('succeeded', 'failed') AS finished,
            job.attempts, job.started_at, job.error_code, job.error_message, job.call_id,
            NOT outcome.release AND outcome.status NOT IN ('waiting_input', 'waiting_provider') AS counted),

-- Per call of a chunked batch, its jobs whose outcomes are written here: they no longer run in it.
-- (The fence above took them running, so each was still counted in its call's open_jobs.)
calls_ended AS (
  SELECT batch_id, call_id, count(*)::int AS jobs FROM written WHERE call_id IS NOT NULL GROUP BY batch_id, call_id),

-- Each attempt of the flow that ended here, for the job's attempt history (a released or parked run
-- is not one). DO NOTHING: a history row never fails the cycle.
attempts_written AS (
  INSERT INTO job_attempts (batch_id, job_id, attempt, outcome, started_at, finished_at, duration_ms, cost, error_code, error_message)
  -- finished_at truncated, not rounded, to the column's milliseconds: it stays in the second of this
  -- statement's metrics row (the duration percentiles group attempts by it)
  SELECT batch_id, id, attempts, CASE WHEN status = 'pending' THEN 'retried' ELSE status::text END, started_at,
         date_trunc('milliseconds', now()),
         duration_ms, cost, error_code, error_message
  FROM written WHERE counted ORDER BY batch_id, id
  ON CONFLICT DO NOTHING),

-- Reservations this worker started in slots its own jobs of the batch freed (each of those outcomes
-- in this statement or an earlier one): reserved -> running, the batch's slot count unchanged.
promoted AS (
  UPDATE jobs job SET started_at = (SELECT moment.at FROM moment)
  WHERE job.id = ANY($12::bigint[]) AND job.status = 'running' AND job.lease_owner = $1 AND job.started_at IS NULL
  RETURNING job.batch_id),

-- Finished attempts per batch and duration bucket, for the histogram.
duration_buckets AS (
  SELECT batch_id, duration_bucket, count(*)::int AS jobs FROM written WHERE finished GROUP BY batch_id, duration_bucket),

-- What the written outcomes moved, per batch: the metrics row and the counters both come from here.
outcome_totals AS (
  SELECT written.batch_id, count(*)::int AS outcomes, count(*) FILTER (WHERE written.reserved)::int AS reserved,
         count(*) FILTER (WHERE written.status = 'succeeded')::int AS succeeded,
         count(*) FILTER (WHERE written.status = 'failed')::int AS failed,
         count(*) FILTER (WHERE written.status = 'pending')::int AS pending,
         count(*) FILTER (WHERE written.status = 'waiting_input')::int AS waiting_input,
         count(*) FILTER (WHERE written.status = 'waiting_provider')::int AS waiting_provider,
         count(*) FILTER (WHERE written.counted)::int AS attempts,
         COALESCE(sum(written.cost), 0)::float8 AS cost,
         COALESCE(sum(written.duration_ms) FILTER (WHERE written.finished), 0)::bigint AS duration_sum_ms,
         (SELECT array_agg(COALESCE(bucket.jobs, 0) ORDER BY slot)
          FROM generate_series(0, $20::int - 1) slot
          LEFT JOIN duration_buckets bucket ON bucket.batch_id = written.batch_id AND bucket.duration_bucket = slot) AS duration_hist
  FROM written GROUP BY written.batch_id ORDER BY written.batch_id),

-- The batch's row of this second's metrics gains what finished here.
metrics_written AS (
  INSERT INTO batch_metrics (batch_id, bucket, succeeded, failed, cost, duration_sum_ms, duration_hist)
  SELECT batch_id, date_trunc('second', now()), succeeded, failed, cost, duration_sum_ms, duration_hist
  FROM outcome_totals WHERE succeeded > 0 OR failed > 0 OR cost > 0
  ORDER BY batch_id
  ON CONFLICT (batch_id, bucket) DO UPDATE SET
    succeeded = batch_metrics.succeeded + excluded.succeeded, failed = batch_metrics.failed + excluded.failed,
    cost = batch_metrics.cost + excluded.cost, duration_sum_ms = batch_metrics.duration_sum_ms + excluded.duration_sum_ms,
    duration_hist = ARRAY(SELECT COALESCE(old, 0) + COALESCE(new, 0)
                          FROM unnest(batch_metrics.duration_hist, excluded.duration_hist) AS hist(old, new))),

-- A retried, released or parked-and-woken job is claimable again from its run_at, through requeued_jobs.
requeue_written AS (
  INSERT INTO requeued_jobs (job_id, batch_id, run_at)
  SELECT id, batch_id, run_at FROM written WHERE status = 'pending' ORDER BY id
  ON CONFLICT (job_id) DO UPDATE SET run_at = excluded.run_at),

-- Per batch, what the outcomes and the promotions move: slots freed net (a promotion takes one
-- back), reservations gone.
freed AS (
  SELECT COALESCE(totals.batch_id, starts.batch_id) AS batch_id, totals.batch_id IS NOT NULL AS had_outcomes,
         COALESCE(totals.outcomes - totals.reserved, 0) - COALESCE(starts.jobs, 0) AS slots,
         COALESCE(totals.reserved, 0) + COALESCE(starts.jobs, 0) AS reservations,
         totals.outcomes, totals.pending, totals.waiting_input, totals.waiting_provider, totals.succeeded, totals.failed, totals.cost,
         totals.attempts, totals.duration_sum_ms, totals.duration_hist
  FROM outcome_totals totals
  FULL JOIN (SELECT batch_id, count(*)::int AS jobs FROM promoted GROUP BY batch_id) starts ON starts.batch_id = totals.batch_id),

reservation_request AS (
  SELECT * FROM unnest($16::text[], $17::int[]) AS request(batch_id, jobs)),

-- Candidates among the outcomes' own batches, locked waiting (their counters move below anyway), as
-- they stand once the outcomes are counted: running, with work, a free slot or room for the
-- reservations asked for, within budget, and no failure here that may stop it (the caller settles
-- such a batch first; the claim comes next cycle). The lock makes the counters read exact: per-batch
-- concurrency holds across any number of workers.
own_candidates AS (
  SELECT batch.id, batch.concurrency, batch.chunk_size, batch.dataset_id, batch.priority, batch.last_claimed_at, batch.created_at,
         batch.claim_cursor, batch.total, batch.running - freed.slots AS running, batch.reserved - freed.reservations AS reserved,
         batch.max_cost, batch.error_policy, request.jobs AS reservations_asked,
         batch.cost_spent + COALESCE(freed.cost, 0) AS cost_spent,
         batch.succeeded + batch.failed + COALESCE(freed.succeeded, 0) + COALESCE(freed.failed, 0) AS finished,
         batch.cost_reservation, batch.cost_reservation_per_record, batch.next_call_id,
         -- a chunked batch's calls in flight: its open rows still open once this statement's outcomes
         -- are out, as seen, and the calls claimed since (next_call_id as locked minus as seen)
         CASE WHEN batch.chunk_size > 1 THEN
           (SELECT count(*)::int FROM batch_calls call LEFT JOIN calls_ended ended ON ended.batch_id = call.batch_id AND ended.call_id = call.call_id
            WHERE call.batch_id = batch.id AND call.open_jobs > COALESCE(ended.jobs, 0))
           + batch.next_call_id - (SELECT seen.next_call_id FROM batches seen WHERE seen.id = batch.id) END AS calls
  FROM batches batch
  JOIN freed ON freed.batch_id = batch.id
  LEFT JOIN reservation_request request ON request.batch_id = batch.id
  WHERE $14::int > 0 AND batch.status IN ('pending', 'running') AND batch.pending > 0
    AND (batch.running - freed.slots <= (batch.concurrency - 1) * batch.chunk_size
         OR (request.jobs > 0 AND batch.reserved - freed.reservations < batch.concurrency))
    AND (batch.max_cost IS NULL OR batch.cost_spent + COALESCE(freed.cost, 0) < batch.max_cost)
    AND NOT (COALESCE(freed.failed, 0) > 0 AND (batch.error_policy = 'stop' OR batch.error_threshold_rate IS NOT NULL))
    AND CASE WHEN batch.chunk_size = 1 THEN true
             ELSE (SELECT count(*) FROM batch_calls call LEFT JOIN calls_ended ended ON ended.batch_id = call.batch_id AND ended.call_id = call.call_id
                   WHERE call.batch_id = batch.id AND call.open_jobs > COALESCE(ended.jobs, 0))
                  + batch.next_call_id - (SELECT seen.next_call_id FROM batches seen WHERE seen.id = batch.id) < batch.concurrency END
  ORDER BY batch.id
  FOR UPDATE OF batch),

-- Candidates among the other batches, the same test; one another claimer has locked is skipped.
-- Taken in claim order: a starved batch first, then by priority, then least recently claimed.
other_candidates AS (
  SELECT batch.id, batch.concurrency, batch.chunk_size, batch.dataset_id, batch.priority, batch.last_claimed_at, batch.created_at,
         batch.claim_cursor, batch.total, batch.running, batch.reserved,
         batch.max_cost, batch.error_policy, request.jobs AS reservations_asked,
         batch.cost_spent, batch.succeeded + batch.failed AS finished, batch.cost_reservation, batch.cost_reservation_per_record,
         batch.next_call_id,
         CASE WHEN batch.chunk_size > 1 THEN
           (SELECT count(*)::int FROM batch_calls call WHERE call.batch_id = batch.id AND call.open_jobs > 0)
           + batch.next_call_id - (SELECT seen.next_call_id FROM batches seen WHERE seen.id = batch.id) END AS calls
  FROM batches batch
  LEFT JOIN reservation_request request ON request.batch_id = batch.id
  WHERE NOT EXISTS (SELECT 1 FROM freed WHERE freed.batch_id = batch.id)
    AND batch.status IN ('pending', 'running') AND batch.pending > 0
    AND (batch.running <= (batch.concurrency - 1) * batch.chunk_size OR (request.jobs > 0 AND batch.reserved < batch.concurrency))
    AND (batch.max_cost IS NULL OR batch.cost_spent < batch.max_cost)
    AND CASE WHEN batch.chunk_size = 1 THEN true
             ELSE (SELECT count(*) FROM batch_calls call WHERE call.batch_id = batch.id AND call.open_jobs > 0)
                  + batch.next_call_id - (SELECT seen.next_call_id FROM batches seen WHERE seen.id = batch.id) < batch.concurrency END
  ORDER BY COALESCE(batch.last_claimed_at, batch.created_at) < now() - make_interval(secs => $18::float8 / 1000) DESC,
           batch.priority DESC, batch.last_claimed_at ASC NULLS FIRST, batch.created_at
  LIMIT $14
  FOR UPDATE OF batch SKIP LOCKED),

-- At most max_batches candidates, in claim order, each with its free slots and the reservations it
-- may have: none where each start must see the latest outcomes (a budget, whose overshoot stays
-- bounded by the running jobs, or a batch that stops at its first failure). A budget with a cost
-- reservation caps the jobs in flight so that their estimated cost fits what is left of it (the last
-- one may pass it): one job at a time while a batch's mean is not known yet.
candidates AS (
  SELECT candidate.id, candidate.concurrency, candidate.chunk_size, candidate.dataset_id, candidate.priority, candidate.last_claimed_at,
         candidate.created_at, candidate.claim_cursor, candidate.total, candidate.in_flight_cap, candidate.next_call_id,
         -- calls in flight: a job each, or a chunked batch's open calls
         GREATEST(LEAST((candidate.concurrency - COALESCE(candidate.calls, candidate.running)) * candidate.chunk_size,
                        candidate.in_flight_cap - candidate.running), 0) AS free_slots,
         CASE WHEN candidate.max_cost IS NULL AND candidate.error_policy <> 'stop' AND candidate.chunk_size = 1
              THEN GREATEST(LEAST(COALESCE(candidate.reservations_asked, 0), candidate.concurrency - candidate.reserved), 0)
              ELSE 0 END AS reservable,
         COALESCE(candidate.last_claimed_at, candidate.created_at) < now() - make_interval(secs => $18::float8 / 1000) AS starved
  FROM (SELECT both_kinds.*,
               CASE WHEN both_kinds.cost_reservation IS NULL OR both_kinds.max_cost IS NULL THEN both_kinds.concurrency * both_kinds.chunk_size
                    WHEN estimate.cost IS NULL THEN 1
                    WHEN estimate.cost <= 0 THEN both_kinds.concurrency * both_kinds.chunk_size
                    ELSE LEAST(both_kinds.concurrency::float8 * both_kinds.chunk_size, ceil((both_kinds.max_cost - both_kinds.cost_spent) / estimate.cost))::int
                    END AS in_flight_cap
        FROM (SELECT * FROM own_candidates UNION ALL SELECT * FROM other_candidates) both_kinds
        CROSS JOIN LATERAL (SELECT CASE WHEN both_kinds.cost_reservation = 'per_record' THEN both_kinds.cost_reservation_per_record
                                        WHEN both_kinds.finished > 0 THEN both_kinds.cost_spent / both_kinds.finished END AS cost) estimate
       ) candidate
  ORDER BY starved DESC, candidate.priority DESC, candidate.last_claimed_at ASC NULLS FIRST, candidate.created_at
  LIMIT $14),

-- What each candidate can use: its free slots, no more than the jobs it has ready (the rest of its
-- cursor, then its due requeued jobs, counted only when the cursor alone falls short). A retry
-- waiting out its backoff holds no slot from another batch. `usable` counts calls (the shares below
-- split calls), `usable_jobs` their jobs.
usable AS (
  SELECT ready.*, (ready.usable_jobs + ready.chunk_size - 1) / ready.chunk_size AS usable FROM (
    SELECT candidates.*,
           CASE WHEN candidates.total - candidates.claim_cursor >= candidates.free_slots THEN candidates.free_slots
                ELSE candidates.total - candidates.claim_cursor + (SELECT count(*)::int FROM (
                       SELECT 1 FROM requeued_jobs requeued WHERE requeued.batch_id = candidates.id AND requeued.run_at <= now()
                       LIMIT candidates.free_slots - (candidates.total - candidates.claim_cursor)) due) END AS usable_jobs
    FROM candidates) ready),

-- Priority: candidates fall in levels (starved, priority); a level gets what the levels above it
-- leave of the wanted jobs (each level above takes all it can use), so a higher priority gets every
-- slot it can use before a lower one gets any. Within a level, candidates are sorted by what they can
-- use, smallest first, for the even split below.
levels AS (
  SELECT usable.*,
         GREATEST($13::int - (sum(usable.usable) OVER (ORDER BY usable.starved DESC, usable.priority DESC)
                              - sum(usable.usable) OVER level), 0) AS level_budget,
         row_number() OVER by_need AS need_rank, count(*) OVER level AS level_size,
         sum(usable.usable) OVER (by_need ROWS UNBOUNDED PRECEDING) - usable.usable AS smaller_needs
  FROM usable
  WINDOW level AS (PARTITION BY usable.starved, usable.priority),
         by_need AS (PARTITION BY usable.starved, usable.priority ORDER BY usable.usable, usable.last_claimed_at ASC NULLS FIRST, usable.created_at)),

-- Equal priority shares evenly (max-min fair): a candidate that can use no more than an even share
-- of what its smaller neighbours leave gets all it can use ...
level_fits AS (
  SELECT levels.*, levels.smaller_needs + (levels.level_size - levels.need_rank + 1) * levels.usable <= levels.level_budget AS fits
  FROM levels),

-- ... and the others split the rest evenly, the odd jobs to the least recently claimed.
split AS (
  SELECT shares.id, shares.dataset_id, shares.claim_cursor, shares.total, shares.concurrency, shares.in_flight_cap,
         shares.chunk_size, shares.usable_jobs, shares.next_call_id,
         CASE WHEN shares.fits THEN shares.usable
              ELSE LEAST(shares.usable, shares.rest / shares.sharers + CASE WHEN shares.turn <= shares.rest % shares.sharers THEN 1 ELSE 0 END)
              END AS slot_jobs,
         -- reservations only while this claim finds no other batch to run: they keep this worker's
         -- slots on the batch, and a batch waiting beside it gets them back within a round
         CASE WHEN count(*) OVER () = 1 THEN shares.reservable ELSE 0 END AS reserved_jobs
  FROM (
    SELECT level_fits.*,
           level_fits.level_budget - COALESCE(sum(level_fits.usable) FILTER (WHERE level_fits.fits) OVER level, 0) AS rest,
           count(*) FILTER (WHERE NOT level_fits.fits) OVER level AS sharers,
           row_number() OVER (PARTITION BY level_fits.starved, level_fits.priority, level_fits.fits
                              ORDER BY level_fits.last_claimed_at ASC NULLS FIRST, level_fits.created_at) AS turn
    FROM level_fits
    WINDOW level AS (PARTITION BY level_fits.starved, level_fits.priority)) shares),

-- The minimum claim: a claim too small to be worth a round of its own takes nothing, and the slots
-- go to the next larger claim (this worker's or another's) instead of one job per statement
-- ping-ponging between workers. The calls each batch got become jobs here.
claim_sizes AS (
  SELECT split.id, split.dataset_id, split.claim_cursor, split.total, split.reserved_jobs, split.chunk_size, split.next_call_id,
         CASE WHEN sum(split.slot_jobs) OVER ()
                   >= LEAST($15::int, min(ceil(LEAST(split.concurrency, (split.in_flight_cap + split.chunk_size - 1) / split.chunk_size) / 8.0)) OVER ())
              THEN LEAST(split.slot_jobs * split.chunk_size, split.usable_jobs) ELSE 0 END AS slot_jobs
  FROM split),

-- Per batch, its due requeued jobs come first (retries, released attempts, woken jobs)...
requeued_taken AS (
  DELETE FROM requeued_jobs requeued WHERE requeued.job_id = ANY(ARRAY(
    SELECT due.job_id FROM claim_sizes size CROSS JOIN LATERAL (
      SELECT job_id FROM requeued_jobs WHERE batch_id = size.id AND run_at <= now()
      ORDER BY run_at LIMIT size.slot_jobs + size.reserved_jobs) due))
  RETURNING requeued.job_id, requeued.batch_id),

-- ... then the next ordinals from its claim cursor: no index on job status is needed (job updates
-- stay HOT), and the scan never walks over jobs already claimed. The cursor moves to `cursor_to`.
cursor_spans AS (
  SELECT size.id AS batch_id, size.claim_cursor AS cursor_from,
         LEAST(size.total, size.claim_cursor + GREATEST(size.slot_jobs + size.reserved_jobs
               - (SELECT count(*) FROM requeued_taken taken WHERE taken.batch_id = size.id), 0))::int AS cursor_to
  FROM claim_sizes size),

-- The picked jobs, numbered per batch: the first slot_jobs go in slots, the rest are reservations.
-- (ORDER BY + LIMIT in a lateral keeps it a short walk of the (batch_id, ordinal) index, also under
-- the prepared statement's generic plan.)
picked AS (
  SELECT pick.id, pick.batch_id, row_number() OVER (PARTITION BY pick.batch_id ORDER BY pick.ordinal) AS seq FROM (
    SELECT job_id AS id, batch_id, -1 AS ordinal FROM requeued_taken
    UNION ALL
    SELECT job.id, span.batch_id, job.ordinal FROM cursor_spans span CROSS JOIN LATERAL (
      SELECT id, ordinal FROM jobs WHERE batch_id = span.batch_id AND ordinal >= span.cursor_from AND ordinal < span.cursor_to
      ORDER BY ordinal LIMIT GREATEST(span.cursor_to - span.cursor_from, 0)) job) pick),

-- A chunked batch's picked jobs in calls: the first chunk_size the batch's next call, and so on (a
-- call may get fewer where picked jobs are passed over below). As one JSON object, job id -> call, for
-- the lookup per claimed row.
picked_calls AS (
  SELECT jsonb_object_agg(picked.id, size.next_call_id + (picked.seq - 1) / size.chunk_size) AS call_of
  FROM picked JOIN claim_sizes size ON size.id = picked.batch_id
  WHERE size.chunk_size > 1),

-- The picked jobs still pending become running under this worker's lease, the attempt counted; a
-- reservation has no started_at. Due-ness was decided above (a job past the cursor has never run, so
-- it is due: run_at, rounded to the millisecond, may be ahead of this statement's now()). A job no
-- longer pending (cancelled) is passed over. (= ANY(ARRAY(...)) keeps these lookups by id.)
claimed AS (
  UPDATE jobs job SET status = 'running', attempts = job.attempts + 1, lease_owner = $1,
    lease_expires_at = now() + make_interval(secs => $2::float8 / 1000), finished_at = NULL,
    started_at = CASE WHEN job.id = ANY(ARRAY(
                        SELECT picked.id FROM picked JOIN claim_sizes size ON size.id = picked.batch_id WHERE picked.seq <= size.slot_jobs))
                      THEN (SELECT moment.at FROM moment) END,
    call_id = ((SELECT call_of FROM picked_calls) ->> job.id::text)::int
  WHERE job.id = ANY(ARRAY(SELECT id FROM picked)) AND job.status = 'pending'
  RETURNING job.id, job.batch_id, job.record_id, job.position, job.attempts, job.interruptions, job.retry_base,
            job.started_at IS NULL AS reserved, job.call_id),

-- per batch: the jobs claimed, the reservations among them, and a chunked batch's last call
claimed_totals AS (
  SELECT claimed.batch_id, count(*)::int AS jobs, count(*) FILTER (WHERE claimed.reserved)::int AS reserved,
         max(claimed.call_id) AS last_call_id
  FROM claimed GROUP BY claimed.batch_id),

-- The counters, all of them here: one UPDATE per batch row for both halves, so `running`,
-- `reserved`, `pending` and the rest always equal a count of the batch's jobs. Only a batch that got
-- jobs counts as claimed (last_claimed_at): one passed over keeps waiting towards starved.
batches_moved AS (
  UPDATE batches batch SET
    running = batch.running - COALESCE(freed.slots, 0) + COALESCE(taken.jobs - taken.reserved, 0),
    reserved = batch.reserved - COALESCE(freed.reservations, 0) + COALESCE(taken.reserved, 0),
    pending = batch.pending + COALESCE(freed.pending, 0) - COALESCE(taken.jobs, 0),
    waiting_input = batch.waiting_input + COALESCE(freed.waiting_input, 0),
    waiting_provider = batch.waiting_provider + COALESCE(freed.waiting_provider, 0),
    succeeded = batch.succeeded + COALESCE(freed.succeeded, 0),
    failed = batch.failed + COALESCE(freed.failed, 0),
    cost_spent = batch.cost_spent + COALESCE(freed.cost, 0),
    attempts = batch.attempts + COALESCE(freed.attempts, 0),
    duration_sum_ms = batch.duration_sum_ms + COALESCE(freed.duration_sum_ms, 0),
    duration_hist = CASE WHEN freed.succeeded > 0 OR freed.failed > 0
                         THEN ARRAY(SELECT COALESCE(old, 0) + COALESCE(new, 0) FROM unnest(batch.duration_hist, freed.duration_hist) AS hist(old, new))
                         ELSE batch.duration_hist END,
    claim_cursor = COALESCE(span.cursor_to, batch.claim_cursor),
    -- a chunked batch's calls claimed here are numbered up to last_call_id
    next_call_id = COALESCE(taken.last_call_id + 1, batch.next_call_id),
    last_claimed_at = CASE WHEN taken.jobs > 0 THEN now() ELSE batch.last_claimed_at END,
    status = (CASE WHEN batch.status = 'pending' AND taken.jobs > 0 THEN 'running' ELSE batch.status::text END)::batch_status,
    started_at = CASE WHEN taken.jobs > 0 THEN COALESCE(batch.started_at, (SELECT moment.at FROM moment)) ELSE batch.started_at END,
    updated_at = CASE WHEN freed.batch_id IS NOT NULL OR taken.jobs > 0 THEN now() ELSE batch.updated_at END
  FROM (SELECT batch_id FROM freed UNION SELECT batch_id FROM cursor_spans) touched
    LEFT JOIN freed ON freed.batch_id = touched.batch_id
    LEFT JOIN cursor_spans span ON span.batch_id = touched.batch_id
    LEFT JOIN claimed_totals taken ON taken.batch_id = touched.batch_id
  WHERE batch.id = touched.batch_id
  RETURNING batch.id, batch.status, batch.pending, batch.running, batch.reserved, batch.waiting_input, batch.waiting_provider, batch.succeeded,
    batch.failed, batch.cost_spent, batch.max_cost, batch.error_policy, batch.error_threshold_rate,
    batch.error_threshold_min_finished, batch.stop_reason, COALESCE(freed.had_outcomes, false) AS had_outcomes,
    COALESCE(freed.outcomes, 0) AS outcomes, COALESCE(freed.failed, 0) AS new_failures),

-- A chunked batch's open calls (batch_calls), after the batch rows above (these stages are not read:
-- they run once the statement's result is made, so their rows are locked last, as in every other
-- statement that moves them): each call claimed here opens with its jobs, each call whose jobs'
-- outcomes were written here counts them out (relative to the row as it is now, whatever committed
-- since this statement's snapshot), and a call seen at 0 on a batch this statement touches goes (no
-- job runs in it, and none will: a job is claimed into a new call).
-- A call's row also names this worker and the ids of its jobs: the lease sweep finds a chunked
-- batch's running jobs through their call, not through the worker's in_flight list (below). And it
-- holds their lease: the heartbeat renews a call's row, not each of its jobs' rows, and the sweep
-- takes the call's lease for a job in a call (the job's own lease_expires_at, written above, is not
-- renewed).
calls_opened AS (
  INSERT INTO batch_calls (batch_id, call_id, open_jobs, worker_id, job_ids, lease_expires_at)
  SELECT batch_id, call_id, count(*)::int, $1, array_agg(id ORDER BY id), now() + make_interval(secs => $2::float8 / 1000)
  FROM claimed WHERE call_id IS NOT NULL
  GROUP BY batch_id, call_id ORDER BY batch_id, call_id),
calls_counted_out AS (
  UPDATE batch_calls call SET open_jobs = call.open_jobs - ended.jobs
  FROM (SELECT * FROM calls_ended ORDER BY batch_id, call_id) ended
  WHERE call.batch_id = ended.batch_id AND call.call_id = ended.call_id),
calls_closed AS (
  DELETE FROM batch_calls call
  WHERE call.batch_id = ANY(ARRAY(SELECT batch_id FROM calls_ended UNION SELECT id FROM candidates WHERE chunk_size > 1))
    AND call.open_jobs = 0),

-- The worker's in_flight list (what the lease sweep reads, beside its calls) drops every outcome,
-- written or fenced (then it was not this worker's anyway), and gains every claimed job of a
-- non-chunked batch: at most the worker's slots and reservations. A chunked batch's jobs are in their
-- call's row (calls_opened), so its claims and outcomes leave the list, and the worker row, alone
-- while the list is empty: rewriting a list of every job in flight (131,072 ids at concurrency 64 x
-- chunk_size 2,048) was most of such a claim.
in_flight_written AS (
  UPDATE workers SET in_flight = ARRAY(SELECT unnest(in_flight) EXCEPT SELECT job_id FROM outcome) || ARRAY(SELECT id FROM claimed WHERE call_id IS NULL)
  WHERE id = $1 AND ((cardinality(in_flight) > 0 AND EXISTS (SELECT 1 FROM outcome)) OR EXISTS (SELECT 1 FROM claimed WHERE call_id IS NULL))
  RETURNING id)

-- Plain columns per claimed job, not a JSON object built per job (json_build_object looks up each
-- argument's type on every call).
SELECT NULL::bigint AS id, NULL::text AS batch_id, NULL::text AS record_id, NULL::int AS position, NULL::int AS attempts,
       NULL::int AS interruptions, NULL::int AS retry_base, NULL::bool AS reserved, NULL::int AS chunk_size, NULL::int AS call, NULL::jsonb AS data,
       (SELECT COALESCE(json_agg(moved), '[]') FROM batches_moved moved WHERE moved.had_outcomes) AS batches,
       (SELECT count(*) FROM candidates)::int AS candidates
UNION ALL
SELECT claimed.id, claimed.batch_id, claimed.record_id, claimed.position, claimed.attempts, claimed.interruptions, claimed.retry_base,
       claimed.reserved, size.chunk_size, claimed.call_id,
       (SELECT record.data FROM dataset_records record WHERE record.dataset_id = size.dataset_id AND record.position = claimed.position),
       NULL, NULL
FROM claimed JOIN claim_sizes size ON size.id = claimed.batch_id
