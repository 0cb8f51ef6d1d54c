-- The OpenAI-compatible Batch API under /v1. A /v1 batch is an ordinary batch (flow `openai`) over the
-- dataset its input file was imported into; these tables hold what the OpenAI objects need beside it.

-- Files: an input file is a dataset (kind upload, format openai); output and error files are generated
-- from a batch's results when read, and only their byte counts are stored.
CREATE TABLE "openai_files" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "filename" TEXT NOT NULL,
    "bytes" BIGINT NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3),
    "dataset_id" TEXT,
    "batch_id" TEXT,
    "line_count" INTEGER NOT NULL DEFAULT 0,
    "problems" JSONB NOT NULL DEFAULT '[]',
    "problem_count" INTEGER NOT NULL DEFAULT 0,
    "line_breaks" JSONB NOT NULL DEFAULT '[]',
    "counted_for" TIMESTAMPTZ(3),

    CONSTRAINT "openai_files_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "openai_files_dataset_id_key" ON "openai_files"("dataset_id");
CREATE INDEX "openai_files_created_at_id_idx" ON "openai_files"("created_at" DESC, "id" DESC);
CREATE INDEX "openai_files_batch_id_idx" ON "openai_files"("batch_id");
ALTER TABLE "openai_files" ADD CONSTRAINT "openai_files_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "datasets"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "openai_files" ADD CONSTRAINT "openai_files_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "batches"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "openai_batches" (
    "batch_id" TEXT NOT NULL,
    "input_file_id" TEXT NOT NULL,
    "endpoint" TEXT NOT NULL,
    "completion_window" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "model" TEXT,
    "errors" JSONB,
    "output_file_id" TEXT,
    "error_file_id" TEXT,
    "finalized_at" TIMESTAMPTZ(3),
    "finalized_for" TIMESTAMPTZ(3),
    "usage" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "openai_batches_pkey" PRIMARY KEY ("batch_id")
);
CREATE INDEX "openai_batches_created_at_batch_id_idx" ON "openai_batches"("created_at" DESC, "batch_id" DESC);
ALTER TABLE "openai_batches" ADD CONSTRAINT "openai_batches_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "batches"("id") ON DELETE CASCADE ON UPDATE CASCADE;
-- the sweep (lib/openai/sweep.ts) looks only at batches whose files are not counted yet
CREATE INDEX "openai_batches_unfinalized_idx" ON "openai_batches"("expires_at") WHERE "finalized_at" IS NULL;
