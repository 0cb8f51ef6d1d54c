// Dataset statements that stay SQL: the imports run on a pg client of the import pool (lib/db/imports.ts)
// inside one transaction whose records arrive by COPY FROM STDIN, which Prisma has no call for; the
// dataset row is written and finished on that same client. Deleting takes the row lock (FOR UPDATE)
// that orders it against a batch being created on the dataset, and is SQL because the worker's /v1
// sweep deletes expired input files' datasets (the worker does not load Prisma Client). The file reads page a record's bytes
// chunk by chunk on whichever connection the caller holds (a flow's, inside its claim).
import type pg from "pg";
import { from as copyFrom, type CopyStreamQuery } from "pg-copy-streams";
import { ACTIVE_BATCH_STATUSES } from "@/lib/contract/statuses";
import type { Queryable } from "./queryable";

export async function insertDataset(
  db: Queryable,
  row: { id: string; name: string; kind: string; description: string | null; format: string; idField: string | null },
): Promise<void> {
  await db.query(
    "INSERT INTO datasets (id, name, kind, description, format, id_field) VALUES ($1, $2, $3::dataset_kind, $4, $5, $6)",
    [row.id, row.name, row.kind, row.description, row.format, row.idField],
  );
}

/** Sets the counts an import found; the dataset row as stored. */
export async function finishDataset(
  db: Queryable,
  id: string,
  values: { recordCount: number; sizeBytes: number; idField: string | null },
): Promise<Record<string, unknown>> {
  const { rows } = await db.query(
    `UPDATE datasets SET record_count = $2, size_bytes = $3, id_field = $4 WHERE id = $1
     RETURNING id, name, kind, description, format, id_field, record_count, size_bytes, created_at`,
    [id, values.recordCount, values.sizeBytes, values.idField],
  );
  return rows[0];
}

/**
 * Deletes a dataset and its records, in the caller's transaction, unless an unfinished batch reads it.
 * The row lock first: it orders the delete against a batch being created on the dataset (its foreign
 * key check waits). Finished batches lose only the link. "gone" when there is no such dataset; else the
 * dataset's name and, when refused, up to five of the unfinished batches (oldest first).
 */
export async function deleteDatasetRows(db: Queryable, id: string): Promise<"gone" | { name: string; activeBatchIds: string[] }> {
  const { rows: locked } = await db.query<{ name: string }>(`SELECT name FROM datasets WHERE id = $1 FOR UPDATE`, [id]);
  if (!locked[0]) return "gone";
  const { rows: active } = await db.query<{ id: string }>(
    `SELECT id FROM batches WHERE dataset_id = $1 AND status = ANY($2::batch_status[]) ORDER BY created_at LIMIT 5`,
    [id, ACTIVE_BATCH_STATUSES],
  );
  if (active.length === 0) {
    await db.query(`UPDATE batches SET dataset_id = NULL WHERE dataset_id = $1`, [id]);
    await db.query(`DELETE FROM datasets WHERE id = $1`, [id]);
  }
  return { name: locked[0].name, activeBatchIds: active.map((b) => b.id) };
}

/** The lock each dataset_records row's foreign-key check would take, taken once; false when the dataset row is missing. */
export async function keyShareDataset(db: Queryable, datasetId: string): Promise<boolean> {
  const { rows } = await db.query("SELECT 1 FROM datasets WHERE id = $1 FOR KEY SHARE", [datasetId]);
  return rows.length > 0;
}

/** A COPY of dataset_records rows (text format: dataset_id, position, record_id, data) to pipe into. */
export function copyDatasetRecords(client: pg.ClientBase): CopyStreamQuery {
  return client.query(copyFrom("COPY dataset_records (dataset_id, position, record_id, data) FROM STDIN"));
}

/** A COPY of dataset_files rows (text format: dataset_id, position, chunk, data) to pipe into. */
export function copyDatasetFiles(client: pg.ClientBase): CopyStreamQuery {
  return client.query(copyFrom("COPY dataset_files (dataset_id, position, chunk, data) FROM STDIN"));
}

/** Up to `limit` chunks of a file record's bytes after chunk `after`, in order. */
export async function fileChunksAfter(db: Queryable, datasetId: string, position: number, after: number, limit: number): Promise<{ chunk: number; data: Buffer }[]> {
  const { rows } = await db.query<{ chunk: number; data: Buffer }>(
    `SELECT chunk, data FROM dataset_files WHERE dataset_id = $1 AND position = $2 AND chunk > $3 ORDER BY chunk LIMIT $4`,
    [datasetId, position, after, limit],
  );
  return rows;
}

/**
 * The dataset a batch reads, if any. SQL, not Prisma Client: a flow reading a file record calls it in
 * the worker, and loading Prisma's engine there doubled the worker's RSS (108 -> 220 MB).
 */
export async function batchDatasetId(db: Queryable, batchId: string): Promise<string | null> {
  const { rows } = await db.query<{ dataset_id: string | null }>("SELECT dataset_id FROM batches WHERE id = $1", [batchId]);
  return rows[0]?.dataset_id ?? null;
}

/** A record of a dataset by its id: its position and data. */
export async function datasetRecordById<D>(db: Queryable, datasetId: string, recordId: string): Promise<{ position: number; data: D } | undefined> {
  const { rows } = await db.query<{ position: number; data: D }>(
    "SELECT position, data FROM dataset_records WHERE dataset_id = $1 AND record_id = $2",
    [datasetId, recordId],
  );
  return rows[0];
}

/** Up to `limit` file records whose content type is not text/* nor one of `sendable`, in order. */
export async function unsendableFiles(db: Queryable, datasetId: string | null, sendable: readonly string[], limit: number): Promise<{ record_id: string; type: string }[]> {
  const { rows } = await db.query<{ record_id: string; type: string }>(
    `SELECT record_id, data->>'content_type' AS type FROM dataset_records
      WHERE dataset_id = $1 AND NOT (data->>'content_type' LIKE 'text/%' OR data->>'content_type' = ANY($2::text[]))
      ORDER BY position LIMIT $3`,
    [datasetId, sendable, limit],
  );
  return rows;
}
