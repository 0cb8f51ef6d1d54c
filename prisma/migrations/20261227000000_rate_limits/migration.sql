-- Rate limits shared across batches, workers and processes: one row per limit key, a token bucket of
-- requests and one of tokens taken from by a single UPDATE (lib/engine/rate-limits.ts).
ALTER TABLE "batches" ADD COLUMN "rate_limit" JSONB;
ALTER TABLE "batches" ADD COLUMN "rate_limit_key" TEXT;
CREATE INDEX "batches_rate_limit_key_idx" ON "batches" ("rate_limit_key");

CREATE TABLE "rate_limits" (
    "key" TEXT NOT NULL,
    "requests_per_minute" DOUBLE PRECISION,
    "tokens_per_minute" DOUBLE PRECISION,
    "request_level" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "token_level" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "refilled_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "rate_fraction" DOUBLE PRECISION NOT NULL DEFAULT 1,
    "fraction_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decreased_at" TIMESTAMPTZ(6),
    "paused_until" TIMESTAMPTZ(6),
    "epoch" INTEGER NOT NULL DEFAULT 0,
    "window_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "window_requests" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "window_tokens" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "last_requests" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "last_tokens" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "rate_limits_pkey" PRIMARY KEY ("key")
);
ALTER TABLE "rate_limits" SET (fillfactor = 50); -- every acquire updates the row: room for HOT updates
