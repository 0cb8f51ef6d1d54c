-- Provider batch offload: records of a batch whose flow runs in provider_batch mode are sent to the
-- provider's own batch tier in groups. While the provider works, their jobs wait in a state of their
-- own (waiting_provider: no worker slot, no lease), counted per batch like the other states.
ALTER TYPE "job_status" ADD VALUE 'waiting_provider' AFTER 'waiting_input';
ALTER TABLE "batches" ADD COLUMN "waiting_provider" INTEGER NOT NULL DEFAULT 0;

-- One row per batch submitted to a provider: where it went (the key by its variable's name only),
-- the provider's id and state as last polled, and when to poll next.
CREATE TABLE "provider_batches" (
    "id" BIGSERIAL NOT NULL,
    "batch_id" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "base_url" TEXT NOT NULL,
    "api_key_env" TEXT,
    "endpoint" TEXT NOT NULL,
    "provider_batch_id" TEXT NOT NULL,
    "provider_status" TEXT NOT NULL,
    "requests" INTEGER NOT NULL,
    "succeeded" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "submitted_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3),
    "ended_at" TIMESTAMPTZ(3),
    "cancel_requested_at" TIMESTAMPTZ(3),
    "next_poll_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "polls" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    CONSTRAINT "provider_batches_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "provider_batches_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "batches"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "provider_batches_batch_id_idx" ON "provider_batches"("batch_id");
CREATE INDEX "provider_batches_next_poll_at_idx" ON "provider_batches"("next_poll_at") WHERE "ended_at" IS NULL;

-- Which provider batch a job's attempt went in (its custom_id is job-<job_id>), and the provider's
-- outcome for it once read: the job runs again and takes this outcome instead of calling. No key to
-- jobs (deleting a batch's jobs pays no per-row check): rows go with their provider batch.
CREATE TABLE "provider_requests" (
    "job_id" BIGINT NOT NULL,
    "provider_batch_id" BIGINT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "outcome" JSONB,
    CONSTRAINT "provider_requests_pkey" PRIMARY KEY ("job_id"),
    CONSTRAINT "provider_requests_provider_batch_id_fkey" FOREIGN KEY ("provider_batch_id") REFERENCES "provider_batches"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "provider_requests_provider_batch_id_idx" ON "provider_requests"("provider_batch_id");
