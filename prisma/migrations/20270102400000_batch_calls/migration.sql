-- Calls in flight of chunked batches, one row per open call: how many of its jobs still run in it.
-- They were recorded on the batch row (open_calls, open_call_jobs: per job, its call) and looked up
-- by id at every claim, which rewrote and scanned both arrays (131,072 entries at concurrency 64 x
-- chunk_size 2,048: 1.7 s per claim). Now a claim inserts a row per call it opens, and every
-- statement that takes a job of a call out of running (the worker cycle's outcomes, a cancel or stop,
-- the lease sweep, a reservation taken back) takes one from its call's open_jobs; a call is in flight
-- while open_jobs > 0. A row at 0 is deleted later (the next cycle on its batch, the batch's finish).
-- lib/db/sql/cycle.sql is the reader.
CREATE TABLE "batch_calls" (
    "batch_id" TEXT NOT NULL,
    "call_id" INTEGER NOT NULL,
    "open_jobs" INTEGER NOT NULL,

    CONSTRAINT "batch_calls_pkey" PRIMARY KEY ("batch_id", "call_id")
);

ALTER TABLE "batch_calls" ADD CONSTRAINT "batch_calls_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "batches"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The calls open at the upgrade: the jobs running in each.
INSERT INTO "batch_calls" ("batch_id", "call_id", "open_jobs")
SELECT job.batch_id, job.call_id, count(*)::int
FROM "batches" batch JOIN "jobs" job ON job.batch_id = batch.id
WHERE batch.chunk_size > 1 AND batch.running + batch.reserved > 0 AND job.status = 'running' AND job.call_id IS NOT NULL
GROUP BY job.batch_id, job.call_id;

ALTER TABLE "batches" DROP COLUMN "open_calls", DROP COLUMN "open_call_jobs";

DROP FUNCTION batch_calls_in_flight(integer[], bigint[], bigint[]);
