-- batch_calls_in_flight, the same answer at a cost linear in the jobs recorded: it looked each open
-- call's jobs up by unnesting every recorded job once per call (calls x jobs: 64 calls of 2,048 jobs
-- made 8.4 million rows per use, and the worker cycle uses it twice per chunked candidate). The
-- recorded jobs are now grouped by call once; per call, the lookup by id still stops at its first
-- job still in it.
CREATE OR REPLACE FUNCTION batch_calls_in_flight(p_calls integer[], p_jobs bigint[], p_ended bigint[]) RETURNS integer[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT COALESCE(array_agg(call.id ORDER BY call.id), '{}')
  FROM (SELECT tracked.call_id AS id, array_agg(tracked.job_id) AS job_ids
        FROM unnest(p_calls, p_jobs) AS tracked(call_id, job_id)
        GROUP BY tracked.call_id) call
  WHERE EXISTS (
    SELECT 1 FROM jobs job
    WHERE job.id = ANY (call.job_ids)
      AND job.id <> ALL (p_ended)
      AND (job.call_id IS NULL OR job.call_id < call.id OR (job.call_id = call.id AND job.status = 'running')))
$$;
