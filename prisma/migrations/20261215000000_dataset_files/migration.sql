-- Files as dataset records. A file's record (dataset_records.data) is {id, filename, content_type,
-- bytes, sha256}; its bytes are here, in chunks of up to 256 KiB, so they stream in and out a chunk at
-- a time and go with their record (and dataset) in the same transaction. bytea rows rather than large
-- objects: deleting a dataset cascades to them (large objects would need lo_unlink or vacuumlo), they
-- need no privileges beyond the table's, and they are written by the same COPY path as records.
CREATE TABLE "dataset_files" (
    "dataset_id" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "chunk" INTEGER NOT NULL,
    "data" BYTEA NOT NULL,

    CONSTRAINT "dataset_files_pkey" PRIMARY KEY ("dataset_id", "position", "chunk")
);
ALTER TABLE "dataset_files" ADD CONSTRAINT "dataset_files_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "datasets"("id") ON DELETE CASCADE ON UPDATE CASCADE;
-- PDFs and images are compressed already: store the chunks out of line without trying to compress them
ALTER TABLE "dataset_files" ALTER COLUMN "data" SET STORAGE EXTERNAL;

-- save_raw: flows that call a provider keep its raw response with each result (the zip export's raw/)
ALTER TABLE "batches" ADD COLUMN "save_raw" BOOLEAN NOT NULL DEFAULT false;
