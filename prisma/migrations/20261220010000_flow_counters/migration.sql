-- Monotonic counters for GET /api/metrics, per flow: the sums over the batches plus flow_totals,
-- which keeps what left the batches' counters (a deleted batch; jobs a manual retry moved from
-- failed, cancelled or skipped back to pending), so no counter goes down.

-- Per batch: the flow's attempts that ended, runs lost to a crash, and the durations of the jobs
-- that finished (the buckets of lib/engine/metrics.ts). Not indexed: batch updates stay HOT.
ALTER TABLE "batches" ADD COLUMN "attempts" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "interruptions" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "duration_sum_ms" BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN "duration_hist" INTEGER[] NOT NULL DEFAULT '{}';

CREATE TABLE "flow_totals" (
    "flow" TEXT NOT NULL,
    "succeeded" BIGINT NOT NULL DEFAULT 0,
    "failed" BIGINT NOT NULL DEFAULT 0,
    "cancelled" BIGINT NOT NULL DEFAULT 0,
    "skipped" BIGINT NOT NULL DEFAULT 0,
    "attempts" BIGINT NOT NULL DEFAULT 0,
    "interruptions" BIGINT NOT NULL DEFAULT 0,
    "cost" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "duration_sum_ms" BIGINT NOT NULL DEFAULT 0,
    "duration_hist" BIGINT[] NOT NULL DEFAULT '{}',

    CONSTRAINT "flow_totals_pkey" PRIMARY KEY ("flow")
);

-- What the batches already ran before this migration.
UPDATE "batches" b SET "attempts" = s.attempts, "interruptions" = s.interruptions
FROM (SELECT batch_id, sum(attempts)::int AS attempts, sum(interruptions)::int AS interruptions FROM jobs GROUP BY batch_id) s
WHERE b.id = s.batch_id;
UPDATE "batches" b SET "duration_sum_ms" = s.duration_sum_ms, "duration_hist" = s.duration_hist
FROM (SELECT m.batch_id, sum(m.duration_sum_ms)::bigint AS duration_sum_ms,
             (SELECT array_agg(n ORDER BY slot) FROM (
                SELECT h.slot, sum(h.n)::int AS n FROM batch_metrics m2, unnest(m2.duration_hist) WITH ORDINALITY AS h(n, slot)
                WHERE m2.batch_id = m.batch_id GROUP BY h.slot) per_slot) AS duration_hist
      FROM batch_metrics m GROUP BY m.batch_id) s
WHERE b.id = s.batch_id;

-- A deleted batch's counts move to its flow's totals.
CREATE OR REPLACE FUNCTION batchboard_batch_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM job_attempts WHERE batch_id = OLD.id;
  INSERT INTO flow_totals AS t (flow, succeeded, failed, cancelled, skipped, attempts, interruptions, cost, duration_sum_ms, duration_hist)
  VALUES (OLD.flow, OLD.succeeded, OLD.failed, OLD.cancelled, OLD.skipped, OLD.attempts, OLD.interruptions, OLD.cost_spent,
          OLD.duration_sum_ms, OLD.duration_hist::bigint[])
  ON CONFLICT (flow) DO UPDATE SET
    succeeded = t.succeeded + excluded.succeeded, failed = t.failed + excluded.failed,
    cancelled = t.cancelled + excluded.cancelled, skipped = t.skipped + excluded.skipped,
    attempts = t.attempts + excluded.attempts, interruptions = t.interruptions + excluded.interruptions,
    cost = t.cost + excluded.cost, duration_sum_ms = t.duration_sum_ms + excluded.duration_sum_ms,
    duration_hist = ARRAY(SELECT COALESCE(kept, 0) + COALESCE(added, 0) FROM unnest(t.duration_hist, excluded.duration_hist) AS h(kept, added));
  RETURN OLD;
END $$;
