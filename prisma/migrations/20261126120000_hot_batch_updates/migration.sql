-- Every worker cycle updates the row of each batch it worked on (counters, claim cursor,
-- last_claimed_at). With last_claimed_at in two indexes, each of those updates was non-HOT: a new
-- entry in every index of batches, hundreds of them a second, and the claim's scan of the active
-- batches walked the dead ones until autovacuum came by (302 entries for one batch after 300 cycles).
-- The claim now finds the active batches through a partial index on priority alone and orders
-- them by last_claimed_at in memory; fillfactor 50 leaves room on the page for the new versions.
DROP INDEX IF EXISTS "batches_status_priority_last_claimed_at_idx";
DROP INDEX IF EXISTS "batches_active_idx";
CREATE INDEX "batches_active_idx" ON "batches"("priority" DESC) WHERE "status" IN ('pending', 'running');
ALTER TABLE "batches" SET (fillfactor = 50);
