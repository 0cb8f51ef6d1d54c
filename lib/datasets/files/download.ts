// A file record's bytes as an HTTP body, read a few chunks at a time as the client takes them.
import { getPool } from "@/lib/db/client";
import { datasetRecordById } from "@/lib/db/sql/datasets";
import { AppError } from "@/lib/errors";
import { getDataset } from "../index";
import { fileChunks } from "./read-file";
import type { FileRecord } from "./types";

export async function openDatasetFile(datasetIdOrName: string, recordId: string): Promise<{ file: FileRecord; body: ReadableStream<Uint8Array> }> {
  const dataset = await getDataset(datasetIdOrName);
  if (dataset.format !== "files") {
    throw new AppError("validation_failed", `dataset ${JSON.stringify(dataset.name)} holds records, not files`, [{ path: "id", message: "not a dataset of files" }]);
  }
  const row = await datasetRecordById<FileRecord>(getPool(), dataset.id, recordId);
  if (!row) throw new AppError("not_found", `file ${JSON.stringify(recordId)} not found in dataset ${JSON.stringify(dataset.name)}`);
  const chunks = fileChunks(dataset.id, row.position);
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(new Uint8Array(next.value));
      },
      async cancel() {
        await chunks.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
  return { file: row.data, body };
}
