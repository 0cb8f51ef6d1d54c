-- A batch run again from another keeps its parent: the batch page shows both ways, and the list
-- filters by it. Deleting the parent leaves its children, without a parent.
ALTER TABLE "batches" ADD COLUMN "parent_id" TEXT;
ALTER TABLE "batches" ADD CONSTRAINT "batches_parent_id_fkey" FOREIGN KEY ("parent_id") REFERENCES "batches"("id") ON DELETE SET NULL ON UPDATE CASCADE;
CREATE INDEX "batches_parent_id_idx" ON "batches" ("parent_id");
