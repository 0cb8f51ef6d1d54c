-- A crash is not the flow's failure. A job whose worker stopped renewing its lease (kill -9, power
-- loss, a lost connection) runs again whatever max_retries says: the lost run is counted in
-- `interruptions`, not in `attempts` (the flow's own attempts), up to the batch's max_interruptions;
-- past it the record fails with `interrupted`, so a record that crashes its worker every time cannot
-- loop forever. Neither column is indexed: job updates stay HOT.
ALTER TABLE "batches" ADD COLUMN "max_interruptions" INTEGER NOT NULL DEFAULT 3;
ALTER TABLE "jobs" ADD COLUMN "interruptions" INTEGER NOT NULL DEFAULT 0;
