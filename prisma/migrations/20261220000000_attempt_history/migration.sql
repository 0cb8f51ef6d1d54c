-- Attempts are cumulative: a manual retry no longer resets them. It sets retry_base to the attempts
-- so far instead, and a failed attempt is retried while attempts - retry_base <= max_retries (a fresh
-- allowance). Not indexed: job updates stay HOT.
ALTER TABLE "jobs" ADD COLUMN "retry_base" INTEGER NOT NULL DEFAULT 0;

-- One row per flow attempt that ended (succeeded, failed for good, or failed and retried), written
-- by the worker cycle in the statement that writes the outcome. No foreign key: a key check per row
-- would cost the cycle; the trigger below removes a batch's rows with the batch, through the primary
-- key's batch_id prefix.
CREATE TABLE "job_attempts" (
    "batch_id" TEXT NOT NULL,
    "job_id" BIGINT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "outcome" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3) NOT NULL,
    "duration_ms" INTEGER,
    "cost" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "error_code" TEXT,
    "error_message" TEXT,

    CONSTRAINT "job_attempts_pkey" PRIMARY KEY ("batch_id","job_id","attempt")
);

CREATE FUNCTION batchboard_batch_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM job_attempts WHERE batch_id = OLD.id;
  RETURN OLD;
END $$;

CREATE TRIGGER batches_deleted AFTER DELETE ON batches FOR EACH ROW EXECUTE FUNCTION batchboard_batch_deleted();
