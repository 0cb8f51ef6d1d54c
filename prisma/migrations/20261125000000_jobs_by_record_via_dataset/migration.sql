-- Creating a batch inserts its jobs in run order (a seeded shuffle of the source), so every index on
-- jobs keyed by something else takes its entries in random order: ~0.4-0.6 s per 100,000 jobs each
-- on a 2-core machine, most of an inline batch's ingest. The (batch_id, record_id) index was one of
-- them, and the dataset already has a unique (dataset_id, record_id) index: a job is now found by
-- record id through it (record id -> position in the batch's dataset -> job at that position), and
-- (batch_id, position) becomes unique, which keeps what the dropped unique index guaranteed: one
-- job per source record in a batch (a dataset's record ids are unique, so ids and positions pair up).
-- Existing rows satisfy it: every batch's jobs were made from distinct dataset positions.

CREATE UNIQUE INDEX "jobs_batch_id_position_key" ON "jobs"("batch_id", "position");
DROP INDEX "jobs_batch_id_position_idx";
DROP INDEX "jobs_batch_id_record_id_key";
