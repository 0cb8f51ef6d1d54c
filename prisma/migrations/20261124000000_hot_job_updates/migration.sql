-- Job rows change twice per attempt (claim, completion). While `status`, the lease and `finished_at`
-- sat in indexes (four of them, two partial on status), every such update was a non-HOT update that
-- wrote a new entry into all eight indexes of `jobs`: ~10 WAL records per job, and a claim index whose
-- front filled up with dead entries as a batch ran. Now only immutable columns are indexed, so the
-- updates are HOT (heap-only: no index writes) whenever the page has room. Fillfactor 30 leaves it:
-- a claim and then a completion (whose result about doubles the row) both fit beside the old versions;
-- measured per 64-job completion: 162 WAL records at fillfactor 50 (many non-HOT), 69 at 30 (all HOT).
--  - claims walk a per-batch cursor over the (batch_id, ordinal) key in run order;
--  - jobs that go back to pending (retry, released, lease expired, woken from a prompt, retried by a
--    user) are listed in the small `requeued_jobs` table, which the claim takes first when due;
--  - running jobs are found through their worker: `workers.in_flight` holds the ids a worker claimed
--    (appended by the claim, removed by the completion, in the same transactions), and the lease
--    sweep looks only at workers whose own lease (`lease_until`, renewed by the heartbeat) ran out.

DROP INDEX "jobs_batch_id_status_ordinal_idx";
DROP INDEX "jobs_batch_id_finished_at_id_idx";
DROP INDEX "jobs_claim_idx";
DROP INDEX "jobs_running_lease_idx";
DROP INDEX "jobs_batch_id_ordinal_idx";
CREATE UNIQUE INDEX "jobs_batch_id_ordinal_key" ON "jobs"("batch_id", "ordinal");
ALTER TABLE "jobs" SET (fillfactor = 30);

ALTER TABLE "batches" ADD COLUMN "claim_cursor" INTEGER NOT NULL DEFAULT 0;

ALTER TABLE "workers" ADD COLUMN "lease_until" TIMESTAMPTZ(3),
  ADD COLUMN "in_flight" BIGINT[] NOT NULL DEFAULT ARRAY[]::BIGINT[];

CREATE TABLE "requeued_jobs" (
    "job_id" BIGINT NOT NULL,
    "batch_id" TEXT NOT NULL,
    "run_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "requeued_jobs_pkey" PRIMARY KEY ("job_id")
);
CREATE INDEX "requeued_jobs_batch_id_run_at_idx" ON "requeued_jobs"("batch_id", "run_at");
ALTER TABLE "requeued_jobs" ADD CONSTRAINT "requeued_jobs_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Existing data: every pending job becomes claimable through requeued_jobs and the cursors start
-- past the end, so nothing already in flight is claimed twice or skipped.
INSERT INTO "requeued_jobs" ("job_id", "batch_id", "run_at")
  SELECT "id", "batch_id", "run_at" FROM "jobs" WHERE "status" = 'pending';
UPDATE "batches" SET "claim_cursor" = "total";
-- running jobs of existing workers: recorded with their owner, so the lease sweep still finds them
UPDATE "workers" w SET "in_flight" = COALESCE((SELECT array_agg(j."id") FROM "jobs" j WHERE j."status" = 'running' AND j."lease_owner" = w."id"), ARRAY[]::BIGINT[]);
-- running jobs whose owner has no worker row (the engine never leaves any): released back to
-- pending, the attempt not counted, with their batch's counters
WITH orphan AS (
  UPDATE "jobs" j SET "status" = 'pending', "lease_owner" = NULL, "lease_expires_at" = NULL,
    "attempts" = GREATEST(j."attempts" - 1, 0), "run_at" = now()
  WHERE j."status" = 'running' AND NOT EXISTS (SELECT 1 FROM "workers" w WHERE w."id" = j."lease_owner")
  RETURNING j."id", j."batch_id", j."run_at"),
moved AS (
  UPDATE "batches" b SET "running" = b."running" - c.n, "pending" = b."pending" + c.n
  FROM (SELECT "batch_id", count(*)::int AS n FROM orphan GROUP BY "batch_id") c WHERE b."id" = c."batch_id")
INSERT INTO "requeued_jobs" ("job_id", "batch_id", "run_at") SELECT "id", "batch_id", "run_at" FROM orphan;
