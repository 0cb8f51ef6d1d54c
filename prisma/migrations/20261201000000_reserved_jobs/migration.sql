-- Reserved jobs: a worker may claim, beside the jobs it runs in a batch's slots, up to as many more
-- of that batch, queued in the worker: when one of its jobs of the batch finishes, the next one starts
-- in the freed slot at once instead of a database round trip later. A reserved job is a running job
-- (leased, its attempt counted) with started_at NULL; `reserved` counts them, `running` counts only
-- the jobs in slots, so running <= concurrency still holds. Existing running jobs all have started_at.
ALTER TABLE "batches" ADD COLUMN "reserved" INTEGER NOT NULL DEFAULT 0;
-- (the old claim always set started_at; a running job without one would now count as reserved)
UPDATE "jobs" SET "started_at" = now() WHERE "status" = 'running' AND "started_at" IS NULL;
