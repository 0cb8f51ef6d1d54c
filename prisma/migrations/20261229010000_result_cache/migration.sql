-- Reusing results: a batch with `cache` takes, for each record whose flow, parameters and record data
-- equal those of a succeeded job of an earlier batch (no older than cache_max_age_seconds), that job's
-- result instead of running the flow. The job keeps where its result came from (cached_from, the
-- batch); the batch counts its reused results and the cost they had.
ALTER TABLE "batches" ADD COLUMN "cache" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "batches" ADD COLUMN "cache_max_age_seconds" INTEGER;
ALTER TABLE "batches" ADD COLUMN "cache_answers" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "batches" ADD COLUMN "cached" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "batches" ADD COLUMN "cache_saved_cost" DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE "jobs" ADD COLUMN "cached_from" TEXT;
