-- ttl_seconds: a finished batch is deleted by the retention sweep this many seconds after it
-- finished, whatever BATCHBOARD_RETENTION_DAYS says; null: the retention days apply.
ALTER TABLE "batches" ADD COLUMN "ttl_seconds" INTEGER;

-- The batches created through one of the compatible job APIs (/api/batch, /batch): which surface and
-- job type each is. No foreign key: a row outlives its batch (expired, deleted) with the status its
-- batch ended in, so the surface's all-time counts keep counting it.
CREATE TABLE "adapter_jobs" (
    "batch_id" TEXT NOT NULL,
    "surface" TEXT NOT NULL,
    "job_type" TEXT NOT NULL,
    "final_status" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "adapter_jobs_pkey" PRIMARY KEY ("batch_id")
);
CREATE INDEX "adapter_jobs_surface_created_at_batch_id_idx" ON "adapter_jobs"("surface", "created_at" DESC, "batch_id" DESC);
