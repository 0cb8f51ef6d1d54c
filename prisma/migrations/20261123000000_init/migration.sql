-- Batchboard: initial schema. Written to match prisma/schema.prisma as `prisma migrate diff` would
-- render it, plus the partial indexes the claim path needs (Prisma's model cannot declare them).

-- CreateEnum
CREATE TYPE "batch_status" AS ENUM ('pending', 'running', 'paused', 'completed', 'failed', 'cancelled');
CREATE TYPE "job_status" AS ENUM ('pending', 'running', 'waiting_input', 'succeeded', 'failed', 'cancelled', 'skipped');
CREATE TYPE "error_policy" AS ENUM ('continue', 'stop');
CREATE TYPE "prompt_status" AS ENUM ('open', 'answered', 'expired', 'cancelled');
CREATE TYPE "dataset_kind" AS ENUM ('upload', 'inline', 'demo');

-- CreateTable
CREATE TABLE "datasets" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "kind" "dataset_kind" NOT NULL DEFAULT 'upload',
    "description" TEXT,
    "format" TEXT,
    "id_field" TEXT,
    "record_count" INTEGER NOT NULL DEFAULT 0,
    "size_bytes" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "datasets_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "dataset_records" (
    "dataset_id" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "record_id" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    CONSTRAINT "dataset_records_pkey" PRIMARY KEY ("dataset_id", "position")
);

CREATE TABLE "batches" (
    "id" TEXT NOT NULL,
    "name" TEXT,
    "flow" TEXT NOT NULL,
    "parameters" JSONB NOT NULL DEFAULT '{}',
    "dataset_id" TEXT,
    "status" "batch_status" NOT NULL DEFAULT 'pending',
    "stop_reason" TEXT,
    "shuffle" BOOLEAN NOT NULL DEFAULT true,
    "seed" TEXT,
    "max_records" INTEGER,
    "concurrency" INTEGER NOT NULL DEFAULT 5,
    "error_policy" "error_policy" NOT NULL DEFAULT 'continue',
    "error_threshold_rate" DOUBLE PRECISION,
    "error_threshold_min_finished" INTEGER,
    "interactive" BOOLEAN NOT NULL DEFAULT false,
    "max_retries" INTEGER NOT NULL DEFAULT 0,
    "retry_backoff_ms" INTEGER NOT NULL DEFAULT 1000,
    "timeout_ms" INTEGER,
    "max_cost" DOUBLE PRECISION,
    "priority" INTEGER NOT NULL DEFAULT 0,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "webhook_url" TEXT,
    "dry_run" BOOLEAN NOT NULL DEFAULT false,
    "total" INTEGER NOT NULL DEFAULT 0,
    "pending" INTEGER NOT NULL DEFAULT 0,
    "running" INTEGER NOT NULL DEFAULT 0,
    "waiting_input" INTEGER NOT NULL DEFAULT 0,
    "succeeded" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "cancelled" INTEGER NOT NULL DEFAULT 0,
    "skipped" INTEGER NOT NULL DEFAULT 0,
    "cost_spent" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "last_claimed_at" TIMESTAMPTZ(3),
    "webhook_state" TEXT,
    "webhook_attempts" INTEGER NOT NULL DEFAULT 0,
    "webhook_next_at" TIMESTAMPTZ(3),
    "webhook_last_error" TEXT,
    "webhook_delivered_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "completed_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "batches_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "jobs" (
    "id" BIGSERIAL NOT NULL,
    "batch_id" TEXT NOT NULL,
    "record_id" TEXT NOT NULL,
    "ordinal" INTEGER NOT NULL,
    "position" INTEGER NOT NULL,
    "status" "job_status" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "run_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lease_owner" TEXT,
    "lease_expires_at" TIMESTAMPTZ(3),
    "result" JSONB,
    "error_code" TEXT,
    "error_message" TEXT,
    "error_retryable" BOOLEAN,
    "cost" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "logs" JSONB,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "duration_ms" INTEGER,
    CONSTRAINT "jobs_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "prompts" (
    "id" TEXT NOT NULL,
    "job_id" BIGINT NOT NULL,
    "batch_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "question" TEXT NOT NULL,
    "input" JSONB NOT NULL,
    "default_value" JSONB,
    "status" "prompt_status" NOT NULL DEFAULT 'open',
    "answer" JSONB,
    "answered_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "answered_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3),
    CONSTRAINT "prompts_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "batch_metrics" (
    "batch_id" TEXT NOT NULL,
    "bucket" TIMESTAMPTZ(0) NOT NULL,
    "succeeded" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "cost" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "duration_sum_ms" BIGINT NOT NULL DEFAULT 0,
    "duration_hist" INTEGER[],
    CONSTRAINT "batch_metrics_pkey" PRIMARY KEY ("batch_id", "bucket")
);

CREATE TABLE "workers" (
    "id" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "mode" TEXT NOT NULL,
    "version" TEXT,
    "concurrency" INTEGER NOT NULL DEFAULT 0,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "heartbeat_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "stopped_at" TIMESTAMPTZ(3),
    "running" INTEGER NOT NULL DEFAULT 0,
    "processed" BIGINT NOT NULL DEFAULT 0,
    "failed" BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT "workers_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "idempotency_keys" (
    "key" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "status" INTEGER NOT NULL,
    "response" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("scope", "key")
);

CREATE TABLE "api_keys" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "scopes" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "settings" (
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "settings_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE UNIQUE INDEX "datasets_name_key" ON "datasets"("name");
CREATE INDEX "datasets_kind_created_at_idx" ON "datasets"("kind", "created_at" DESC);
CREATE UNIQUE INDEX "dataset_records_dataset_id_record_id_key" ON "dataset_records"("dataset_id", "record_id");
CREATE INDEX "batches_created_at_id_idx" ON "batches"("created_at" DESC, "id" DESC);
CREATE INDEX "batches_status_priority_last_claimed_at_idx" ON "batches"("status", "priority" DESC, "last_claimed_at");
CREATE INDEX "batches_flow_created_at_idx" ON "batches"("flow", "created_at" DESC);
CREATE INDEX "batches_dataset_id_idx" ON "batches"("dataset_id");
CREATE UNIQUE INDEX "jobs_batch_id_record_id_key" ON "jobs"("batch_id", "record_id");
CREATE INDEX "jobs_batch_id_ordinal_idx" ON "jobs"("batch_id", "ordinal");
CREATE INDEX "jobs_batch_id_status_ordinal_idx" ON "jobs"("batch_id", "status", "ordinal");
CREATE INDEX "jobs_batch_id_position_idx" ON "jobs"("batch_id", "position");
CREATE INDEX "jobs_batch_id_finished_at_id_idx" ON "jobs"("batch_id", "finished_at", "id");
CREATE UNIQUE INDEX "prompts_job_id_key_key" ON "prompts"("job_id", "key");
CREATE INDEX "prompts_status_created_at_idx" ON "prompts"("status", "created_at");
CREATE INDEX "prompts_batch_id_status_idx" ON "prompts"("batch_id", "status");
CREATE INDEX "batch_metrics_bucket_idx" ON "batch_metrics"("bucket");
CREATE INDEX "workers_heartbeat_at_idx" ON "workers"("heartbeat_at");
CREATE INDEX "idempotency_keys_created_at_idx" ON "idempotency_keys"("created_at");
CREATE UNIQUE INDEX "api_keys_hash_key" ON "api_keys"("hash");

-- AddForeignKey
ALTER TABLE "dataset_records" ADD CONSTRAINT "dataset_records_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "datasets"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "batches" ADD CONSTRAINT "batches_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "datasets"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "jobs" ADD CONSTRAINT "jobs_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "batches"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "prompts" ADD CONSTRAINT "prompts_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "prompts" ADD CONSTRAINT "prompts_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "batches"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "batch_metrics" ADD CONSTRAINT "batch_metrics_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "batches"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Partial indexes for the hot paths (not expressible in schema.prisma).
-- Claim: the next runnable jobs of a batch in run order.
CREATE INDEX "jobs_claim_idx" ON "jobs"("batch_id", "ordinal") WHERE "status" = 'pending';
-- Lease sweep: running jobs whose lease has expired.
CREATE INDEX "jobs_running_lease_idx" ON "jobs"("lease_expires_at") WHERE "status" = 'running';
-- Batches a worker may claim from.
CREATE INDEX "batches_active_idx" ON "batches"("priority" DESC, "last_claimed_at") WHERE "status" IN ('pending', 'running');
-- The Inbox: open prompts, oldest first.
CREATE INDEX "prompts_open_idx" ON "prompts"("created_at", "id") WHERE "status" = 'open';
