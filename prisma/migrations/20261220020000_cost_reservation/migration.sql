-- Opt-in with max_cost: before a job starts, each running job's estimated cost counts against the
-- budget, so the batch ends within one job's cost of max_cost. cost_reservation: 'per_record' (the
-- estimate is cost_reservation_per_record) or 'mean' (the batch's mean cost per finished record; one
-- job at a time until one has finished). NULL: every job in flight may still spend.
ALTER TABLE "batches" ADD COLUMN "cost_reservation" TEXT,
  ADD COLUMN "cost_reservation_per_record" DOUBLE PRECISION;
