-- A provider batch is recorded before it is created at the provider (state "submitting", no provider
-- id yet), so a worker that dies between the provider accepting it and Batchboard storing its id
-- leaves a row to recover from: the provider's batch is found by the metadata it was created with
-- (OpenAI-compatible providers) and adopted, or the records are sent again.
ALTER TABLE "provider_batches" ALTER COLUMN "provider_batch_id" DROP NOT NULL;
