-- A batch run again from another keeps naming it after that one is deleted (POST /api/batches/{id}/delete
-- or the retention sweep): the dashboard shows the parent as deleted instead of forgetting it had one.
ALTER TABLE "batches" DROP CONSTRAINT "batches_parent_id_fkey";
