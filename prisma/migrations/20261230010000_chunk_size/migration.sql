-- Chunked flows: a batch of a flow with runChunk runs up to chunk_size records in one call. Its
-- concurrency counts calls, so the cycle may hold concurrency × chunk_size of its jobs running.
ALTER TABLE "batches" ADD COLUMN "chunk_size" INTEGER NOT NULL DEFAULT 1;
