-- Calls in flight of chunked batches, counted exactly: the claim numbers each call of a chunked batch
-- (batches.next_call_id), marks its jobs with it (jobs.call_id) and records them on the batch row
-- (open_calls: the call of each job in open_call_jobs). A call is in flight while one of its jobs still
-- runs in it (lib/engine/sql/cycle.sql). No index: the claim reads a batch's open calls from its row
-- and looks their jobs up by id.
ALTER TABLE "batches"
  ADD COLUMN "next_call_id" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "open_calls" INTEGER[] NOT NULL DEFAULT ARRAY[]::INTEGER[],
  ADD COLUMN "open_call_jobs" BIGINT[] NOT NULL DEFAULT ARRAY[]::BIGINT[];
ALTER TABLE "jobs" ADD COLUMN "call_id" INTEGER;

-- Jobs of chunked batches running at the upgrade, claimed before calls were recorded: grouped in calls
-- of chunk_size, the count the claim assumed until now.
WITH running AS (
  SELECT job.id, job.batch_id,
         ((row_number() OVER (PARTITION BY job.batch_id ORDER BY job.id) - 1) / batch.chunk_size)::int AS call_id
  FROM batches batch JOIN jobs job ON job.batch_id = batch.id
  WHERE batch.chunk_size > 1 AND batch.running > 0 AND job.status = 'running'),
marked AS (
  UPDATE jobs SET call_id = running.call_id FROM running WHERE jobs.id = running.id
  RETURNING jobs.id, jobs.batch_id, jobs.call_id)
UPDATE batches SET open_calls = calls.open_calls, open_call_jobs = calls.open_call_jobs, next_call_id = calls.next_call_id
FROM (SELECT batch_id, array_agg(call_id ORDER BY id) AS open_calls, array_agg(id ORDER BY id) AS open_call_jobs,
             max(call_id) + 1 AS next_call_id
      FROM marked GROUP BY batch_id) calls
WHERE batches.id = calls.batch_id;

-- The calls of a chunked batch still in flight, from what its row records (per job in p_jobs, its call
-- in p_calls): a call is in flight while one of its jobs is still in it, not ended here (p_ended: the
-- jobs whose outcomes the calling statement writes) and not seen to have left it (no longer running
-- in it, or claimed since in a later call). A job whose claim the caller's snapshot does not see yet
-- (its call_id older, or none) counts as in its call. Per call, the lookup stops at its first job
-- still in it. The one definition of "in flight", used by the worker cycle (lib/engine/sql/cycle.sql).
CREATE FUNCTION batch_calls_in_flight(p_calls integer[], p_jobs bigint[], p_ended bigint[]) RETURNS integer[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT COALESCE(array_agg(call.id ORDER BY call.id), '{}')
  FROM (SELECT DISTINCT id FROM unnest(p_calls) AS id) call
  WHERE EXISTS (
    SELECT 1 FROM jobs job
    WHERE job.id = ANY (ARRAY(SELECT tracked.job_id FROM unnest(p_calls, p_jobs) AS tracked(call_id, job_id) WHERE tracked.call_id = call.id))
      AND job.id <> ALL (p_ended)
      AND (job.call_id IS NULL OR job.call_id < call.id OR (job.call_id = call.id AND job.status = 'running')))
$$;
