-- A stop keeps its numbers: what the error threshold saw (failed, finished, rate, threshold), the
-- record that failed under error policy "stop", the budget spent at the stop, the share of records a
-- cancel found processed. Batches stopped before this migration get the numbers their counters still
-- hold (the same for a threshold stop or a cancel; for a budget stop, the final spend).
ALTER TABLE "batches" ADD COLUMN "stop_detail" JSONB;

UPDATE "batches" b SET "stop_detail" = CASE b."stop_reason"
    WHEN 'cancelled' THEN jsonb_build_object('reason', 'cancelled', 'processed', b."succeeded" + b."failed", 'total', b."total")
    WHEN 'error_threshold' THEN jsonb_build_object('reason', 'error_threshold', 'failed', b."failed",
      'finished', b."succeeded" + b."failed", 'rate', b."failed"::float8 / GREATEST(b."succeeded" + b."failed", 1),
      'threshold', b."error_threshold_rate", 'minFinished', b."error_threshold_min_finished")
    WHEN 'budget_exhausted' THEN jsonb_build_object('reason', 'budget_exhausted', 'spent', b."cost_spent", 'maxCost', b."max_cost")
    WHEN 'error_policy' THEN (
      SELECT jsonb_build_object('reason', 'error_policy', 'failed', b."failed", 'recordId', j."record_id",
        'error', CASE WHEN j."id" IS NULL THEN NULL ELSE jsonb_build_object('code', j."error_code", 'message', j."error_message") END)
      FROM (SELECT 1) one LEFT JOIN LATERAL (
        SELECT "id", "record_id", "error_code", "error_message" FROM "jobs"
        WHERE "batch_id" = b."id" AND "status" = 'failed' ORDER BY "finished_at" DESC NULLS LAST LIMIT 1) j ON true)
  END
WHERE b."stop_reason" IS NOT NULL;
