-- A chunked batch's running jobs are found through their call, not through the worker's in_flight
-- list. in_flight (a bigint[] on the worker row) held every job id the worker ran, and the worker
-- cycle rewrote all of it at each claim and each outcome: at concurrency 64 x chunk_size 2,048 a
-- 131,072-id array, ~830 ms of a ~920 ms claim (EXPLAIN ANALYZE, bench/results/HISTORY.md). Now a
-- call's row in batch_calls names the worker that claimed it (every job of a call is claimed by one
-- statement, so by one worker) and the ids of its jobs, written once when the claim opens it; the lease
-- sweep reads a lapsed worker's open calls (batch_calls_worker_id_idx: worker_id never changes after
-- the insert, so the open_jobs updates stay HOT) beside its in_flight, which keeps only the jobs of
-- non-chunked batches (at most the worker's slots and reservations).
ALTER TABLE "batch_calls" ADD COLUMN "worker_id" TEXT, ADD COLUMN "job_ids" BIGINT[] NOT NULL DEFAULT ARRAY[]::BIGINT[];

CREATE INDEX "batch_calls_worker_id_idx" ON "batch_calls"("worker_id");

-- The calls open at the upgrade: their worker and their jobs still running in them.
UPDATE "batch_calls" call SET "worker_id" = running.worker_id, "job_ids" = running.job_ids
FROM (SELECT job.batch_id, job.call_id, min(job.lease_owner) AS worker_id, array_agg(job.id ORDER BY job.id) AS job_ids
      FROM "jobs" job
      WHERE job.batch_id IN (SELECT DISTINCT batch_id FROM "batch_calls") AND job.status = 'running' AND job.call_id IS NOT NULL
      GROUP BY job.batch_id, job.call_id) running
WHERE call.batch_id = running.batch_id AND call.call_id = running.call_id;

-- Their ids leave the workers' in_flight lists: the sweep finds them through their calls now.
UPDATE "workers" w SET "in_flight" = ARRAY(
    SELECT f.id FROM unnest(w.in_flight) WITH ORDINALITY AS f(id, n)
    WHERE f.id NOT IN (SELECT unnest(call.job_ids) FROM "batch_calls" call WHERE call.worker_id = w.id)
    ORDER BY f.n)
WHERE cardinality(w.in_flight) > 0 AND EXISTS (SELECT 1 FROM "batch_calls" call WHERE call.worker_id = w.id);
