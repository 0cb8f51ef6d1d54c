-- A chunked batch's jobs are leased through their call. The heartbeat renewed the lease of every job
-- a worker held, one row update each: at concurrency 64 x chunk_size 2,048, 131,072 job rows and a
-- 131,072-id parameter every third of the lease (~810 ms of execution, EXPLAIN ANALYZE,
-- bench/results/HISTORY.md). Now a call's row carries the lease of its running jobs, renewed once per
-- call (64 rows); the lease sweep takes the call's lease for a job in a call. A job's own
-- lease_expires_at stays what its claim wrote, and is what counts for a job in no call.
ALTER TABLE "batch_calls" ADD COLUMN "lease_expires_at" TIMESTAMPTZ(3);

-- The calls open at the upgrade: the latest lease of their jobs still running in them.
UPDATE "batch_calls" call SET "lease_expires_at" = running.lease
FROM (SELECT job.batch_id, job.call_id, max(job.lease_expires_at) AS lease
      FROM "jobs" job
      WHERE job.batch_id IN (SELECT DISTINCT batch_id FROM "batch_calls") AND job.status = 'running' AND job.call_id IS NOT NULL
      GROUP BY job.batch_id, job.call_id) running
WHERE call.batch_id = running.batch_id AND call.call_id = running.call_id;
