// Bulk insert of dataset_records through COPY ... FROM STDIN: one round trip for any number of
// records, fed from an (async) iterable with stream backpressure, so memory stays bounded whatever
// the size. Run it on a client inside the caller's transaction (required: the dataset lock taken
// below lasts until that ends): a failure leaves nothing behind. Every row references the one
// dataset, so its foreign-key check is made once, not once a row.
import { rowTriggersOff } from "@/lib/db/triggers";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { copyDatasetRecords, keyShareDataset } from "@/lib/db/sql/datasets";
import { AppError } from "@/lib/errors";

export interface DatasetRecordRow {
  recordId: string;
  data: unknown;
  /** `data` as JSON text when the caller already has it (a JSONL line): stored as given */
  json?: string;
}

/** Rows one by one, or in batches (a parser hands on the records of each read chunk at once). */
export type DatasetRecordRows = Iterable<DatasetRecordRow> | AsyncIterable<DatasetRecordRow | readonly DatasetRecordRow[]>;

export interface WriteRecordsOptions {
  /** position of the first row (rows are numbered in iteration order from here); default 0 */
  startPosition?: number;
  /** how errors name a row, e.g. (p) => `line ${lines[p]}`; default `records.${position}` */
  describePosition?: (position: number) => string;
}

export interface WriteRecordsResult {
  count: number;
  /** bytes of record data as stored JSON text */
  dataBytes: number;
}

// ~256 KiB per write: large enough that per-chunk overhead vanishes, small enough to stay bounded
export const COPY_CHUNK_CHARS = 256 * 1024;
const NEEDS_ESCAPE = /[\\\n\r\t]/;

/** Escapes a value for COPY's text format: backslash, newline, carriage return and tab. */
export function escapeCopyText(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/[\\\n\r\t]/g, (c) => (c === "\\" ? "\\\\" : c === "\n" ? "\\n" : c === "\r" ? "\\r" : "\\t"));
}

export async function writeDatasetRecords(
  client: pg.ClientBase,
  datasetId: string,
  rows: DatasetRecordRows,
  options: WriteRecordsOptions = {},
): Promise<WriteRecordsResult> {
  const start = options.startPosition ?? 0;
  const describe = options.describePosition ?? ((p: number) => `records.${p}`);
  const datasetField = escapeCopyText(datasetId);
  let count = 0;
  let dataBytes = 0;

  async function* chunks(): AsyncGenerator<string> {
    let buf = "";
    for await (const batch of inBatches(rows)) {
      for (const row of batch) {
        const json = row.json ?? JSON.stringify(row.data === undefined ? null : row.data);
        dataBytes += json.length;
        buf += `${datasetField}\t${start + count}\t${escapeCopyText(row.recordId)}\t${escapeCopyText(json)}\n`;
        count++;
        if (buf.length >= COPY_CHUNK_CHARS) {
          yield buf;
          buf = "";
        }
      }
    }
    if (buf) yield buf;
  }

  const restoreTriggers = await checkDatasetOnce(client, datasetId);
  const copy = copyDatasetRecords(client);
  try {
    await pipeline(Readable.from(chunks()), copy);
  } catch (err) {
    // the transaction is aborted: the caller's rollback also undoes the trigger setting
    throw toRowError(err, start, describe) ?? err;
  }
  await restoreTriggers();
  return { count, dataBytes };
}

/** An await per batch, not per row: a synchronous source (an array of inline records) is one batch. */
async function* inBatches(rows: DatasetRecordRows): AsyncGenerator<Iterable<DatasetRecordRow>> {
  if (!(Symbol.asyncIterator in rows)) {
    yield rows;
    return;
  }
  for await (const item of rows) yield isBatch(item) ? item : [item];
}

function isBatch(item: DatasetRecordRow | readonly DatasetRecordRow[]): item is readonly DatasetRecordRow[] {
  return Array.isArray(item);
}

/**
 * PostgreSQL checks dataset_records' foreign key with one `SELECT … FOR KEY SHARE` on datasets per
 * row: ~40% of a large COPY. All rows here reference `datasetId`, so take that same lock once and
 * run the COPY with triggers off (session_replication_role = replica, for this COPY only: the
 * caller's later statements keep their checks). Setting it needs superuser (the embedded server's
 * user); elsewhere, or when the dataset row is missing, the per-row checks simply stay on.
 * Returns what switches the checks back on.
 */
async function checkDatasetOnce(client: pg.ClientBase, datasetId: string): Promise<() => Promise<void>> {
  const keepChecks = async () => {};
  if (!(await keyShareDataset(client, datasetId))) return keepChecks;
  return rowTriggersOff(client);
}

/**
 * Turns PostgreSQL's complaint about one COPY row (a duplicate id, JSON jsonb cannot hold such as
 * \u0000) into a 422 that names the row the way the caller names it ("line 17").
 */
function toRowError(err: unknown, start: number, describe: (position: number) => string): AppError | undefined {
  if (!err || typeof err !== "object") return undefined;
  const e = err as { code?: string; where?: string; detail?: string; message?: string };
  const line = /COPY dataset_records, line (\d+)/.exec(e.where ?? "");
  if (!line || !e.code) return undefined;
  const isDuplicate = e.code === "23505";
  if (!isDuplicate && !e.code.startsWith("22")) return undefined;
  const position = start + Number(line[1]) - 1;
  const where = describe(position);
  let message: string;
  if (isDuplicate) {
    const id = /\(dataset_id, record_id\)=\(.*?, (.*)\) already exists/.exec(e.detail ?? "")?.[1];
    message = id !== undefined ? `duplicate record id ${JSON.stringify(id)}` : "duplicate record id";
  } else {
    message = `record cannot be stored: ${e.message ?? "invalid data"}`;
  }
  return new AppError("validation_failed", `${where}: ${message}`, [{ path: where, message }]);
}
