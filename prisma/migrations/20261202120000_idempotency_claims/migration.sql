-- Idempotency keys are claimed by a row instead of held by an advisory lock for the whole request:
-- the first request with a key inserts the row with a claim (status and response still NULL), creates,
-- and writes its response in the same transaction as what it created; concurrent retries read the row,
-- wait without holding a connection, and replay. A claim whose request died is taken over once stale.
ALTER TABLE "idempotency_keys" ALTER COLUMN "status" DROP NOT NULL;
ALTER TABLE "idempotency_keys" ALTER COLUMN "response" DROP NOT NULL;
ALTER TABLE "idempotency_keys" ADD COLUMN "claim" TEXT;
ALTER TABLE "idempotency_keys" ADD COLUMN "claimed_at" TIMESTAMPTZ(3);
