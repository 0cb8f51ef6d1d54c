// Datasets: named, ordered collections of records that batches read from. Imports stream the
// upload through a parser straight into COPY inside one transaction, so a file of any size takes
// bounded memory and a malformed file leaves nothing behind.
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import path from "node:path";
import type pg from "pg";
import { getConfig } from "@/lib/config";
import { getPrisma } from "@/lib/db/client";
import type { DatasetKind, Dataset as DatasetModel } from "@/lib/generated/prisma/client";
import { inImportTransaction } from "@/lib/db/imports";
import { deleteDatasetRows, finishDataset, insertDataset } from "@/lib/db/sql/datasets";
import { withTx } from "@/lib/db/tx";
import { CURSORS, decodeCursor, encodeCursor } from "@/lib/db/cursor";
import type { Page } from "@/lib/contract/pages";
import { AppError, notFound } from "@/lib/errors";
import { parseDataset, type DatasetFormat, type ParseResult } from "./parse";
import { extractRecordIds } from "./record-ids";
import { writeDatasetRecords, type DatasetRecordRow } from "./write-records";

export { DATASET_FORMATS, type DatasetFormat } from "./parse";
export { extractRecordId, extractRecordIds } from "./record-ids";
export { writeDatasetRecords } from "./write-records";

export type { DatasetKind };

/** A dataset as the app uses it: Prisma's row, its byte size as a number. */
export type Dataset = Omit<DatasetModel, "sizeBytes"> & { sizeBytes: number };

export interface DatasetRecordItem {
  recordId: string;
  position: number;
  data: unknown;
}

export type DatasetBody = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | string;

export interface ImportDatasetInput {
  name: string;
  format: DatasetFormat;
  body: DatasetBody;
  idField?: string;
  description?: string;
  kind?: "upload" | "demo";
  /** refuse the upload past this many bytes (default BATCHBOARD_MAX_UPLOAD_BYTES) */
  maxBytes?: number;
  /** parses the body in place of `format`'s parser (the /v1 files' import, which sets lines aside) */
  parse?: (bytes: AsyncIterable<Uint8Array>) => ParseResult;
  /** a file whose every line was set aside is still imported, with no records */
  allowEmpty?: boolean;
  /** runs in the import's transaction once the records are in, before it commits: a failure undoes the whole import */
  beforeCommit?: (client: pg.PoolClient, dataset: Dataset) => Promise<void>;
}

export const DEMO_DATASET_NAME = "demo-reviews";

export function newDatasetId(): string {
  return `ds_${randomBytes(10).toString("hex")}`;
}

export function checkName(name: string): string {
  const trimmed = typeof name === "string" ? name.trim() : "";
  let message: string | undefined;
  if (!trimmed) message = "name must not be empty";
  else if (trimmed.length > 200) message = "name must be at most 200 characters";
  else if (/[\u0000-\u001f\u007f]/.test(trimmed)) message = "name must not contain control characters";
  else if (/^ds_[0-9a-f]{20}$/.test(trimmed)) message = "name must not look like a dataset id";
  if (message) throw new AppError("validation_failed", message, [{ path: "name", message }]);
  return trimmed;
}

function nameTaken(name: string): AppError {
  return new AppError("conflict", `a dataset named ${JSON.stringify(name)} already exists`, [
    { path: "name", message: "name is taken" },
  ]);
}

export async function insertDatasetRow(
  client: pg.ClientBase,
  row: { id: string; name: string; kind: DatasetKind; description: string | null; format: string; idField: string | null },
): Promise<void> {
  try {
    await insertDataset(client, row);
  } catch (err) {
    if ((err as { code?: string; constraint?: string }).code === "23505") throw nameTaken(row.name);
    throw err;
  }
}

export async function finishDatasetRow(
  client: pg.ClientBase,
  id: string,
  values: { recordCount: number; sizeBytes: number; idField: string | null },
): Promise<Dataset> {
  return fromRow(await finishDataset(client, id, values));
}

function fromRow(r: Record<string, unknown>): Dataset {
  return {
    id: r.id as string,
    name: r.name as string,
    kind: r.kind as DatasetKind,
    description: (r.description as string | null) ?? null,
    format: (r.format as string | null) ?? null,
    idField: (r.id_field as string | null) ?? null,
    recordCount: Number(r.record_count),
    sizeBytes: Number(r.size_bytes),
    createdAt: r.created_at as Date,
  };
}

function fromModel(m: DatasetModel): Dataset {
  return { ...m, sizeBytes: Number(m.sizeBytes) };
}

function tooLarge(maxBytes: number): AppError {
  const message = `the file is larger than the limit of ${maxBytes} bytes`;
  return new AppError("payload_too_large", message, [{ path: "file", message }]);
}

/** The body as byte chunks, counting them and refusing past maxBytes as soon as it is crossed. */
async function* byteChunks(body: DatasetBody, maxBytes: number, counter: { bytes: number }): AsyncGenerator<Uint8Array> {
  const count = (raw: Uint8Array | string) => {
    // a Node stream with an encoding set yields strings
    const chunk = typeof raw === "string" ? Buffer.from(raw, "utf8") : raw;
    counter.bytes += chunk.byteLength;
    if (counter.bytes > maxBytes) throw tooLarge(maxBytes);
    return chunk;
  };
  if (typeof body === "string") {
    const buf = Buffer.from(body, "utf8");
    for (let i = 0; i < buf.length; i += 1 << 20) yield count(buf.subarray(i, i + (1 << 20)));
    return;
  }
  if (typeof (body as ReadableStream<Uint8Array>).getReader === "function") {
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    let done = false;
    try {
      while (true) {
        const next = await reader.read();
        if (next.done) {
          done = true;
          return;
        }
        yield count(next.value);
      }
    } finally {
      if (!done) await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  }
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) yield count(chunk);
}

/**
 * Imports a file as a new dataset, all or nothing: a malformed record, a duplicate id, or an
 * oversized body fails the whole import (422 / 413) naming the line; a taken name is 409.
 */
export async function importDataset(input: ImportDatasetInput): Promise<Dataset> {
  const name = checkName(input.name);
  if (!(["csv", "jsonl", "json", "openai"] as string[]).includes(input.format)) {
    const message = "format must be one of csv, jsonl, json, openai";
    throw new AppError("validation_failed", message, [{ path: "format", message }]);
  }
  const idField = input.idField?.trim() || undefined;
  const maxBytes = input.maxBytes ?? getConfig().BATCHBOARD_MAX_UPLOAD_BYTES;
  const counter = { bytes: 0 };
  const bytes = byteChunks(input.body, maxBytes, counter);
  const parsed = input.parse ? input.parse(bytes) : parseDataset(input.format, bytes, { idField });

  // position -> source line, for naming the line of a row PostgreSQL refuses (4 bytes a record)
  let lines = new Uint32Array(1024);
  async function* rows(): AsyncGenerator<DatasetRecordRow[]> {
    let position = 0;
    for await (const batch of parsed.records) {
      if (position + batch.length > lines.length) {
        const grown = new Uint32Array(Math.max(lines.length * 2, position + batch.length));
        grown.set(lines);
        lines = grown;
      }
      for (const r of batch) lines[position++] = r.line;
      yield batch;
    }
  }

  const id = newDatasetId();
  // on the import pool, once this import's turn comes (lib/db/imports.ts)
  return inImportTransaction(async (client) => {
    await insertDatasetRow(client, {
      id,
      name,
      kind: input.kind ?? "upload",
      description: input.description ?? null,
      format: input.format,
      idField: idField ?? null,
    });
    const { count } = await writeDatasetRecords(client, id, rows(), {
      describePosition: (p) => `line ${lines[p] ?? p + 1}`,
    });
    if (count === 0 && !input.allowEmpty) {
      const message = "the file has no records";
      throw new AppError("validation_failed", message, [{ path: "file", message }]);
    }
    const dataset = await finishDatasetRow(client, id, { recordCount: count, sizeBytes: counter.bytes, idField: parsed.idField() });
    await input.beforeCommit?.(client, dataset);
    return dataset;
  });
}

export interface CreateDatasetFromRecordsInput {
  name: string;
  records: unknown[];
  idField?: string;
  description?: string;
  /** "inline" for records given with a batch (not listed on the Datasets page) */
  kind?: DatasetKind;
}

/** A dataset from records given as JSON (POST /api/datasets with `records`): ids per extractRecordId. */
export async function createDatasetFromRecords(input: CreateDatasetFromRecordsInput): Promise<Dataset> {
  const name = checkName(input.name);
  if (!Array.isArray(input.records) || input.records.length === 0) {
    const message = "records must be a non-empty array";
    throw new AppError("validation_failed", message, [{ path: "records", message }]);
  }
  const idField = input.idField?.trim() || "id";
  const rows = extractRecordIds(input.records, idField, "records");
  const usesField = rows.some((_, i) => {
    const v = input.records[i];
    return v !== null && typeof v === "object" && !Array.isArray(v);
  });
  const id = newDatasetId();
  return inImportTransaction(async (client) => {
    await insertDatasetRow(client, {
      id,
      name,
      kind: input.kind ?? "upload",
      description: input.description ?? null,
      format: "inline",
      idField: usesField ? idField : null,
    });
    const { count, dataBytes } = await writeDatasetRecords(client, id, rows);
    return finishDatasetRow(client, id, { recordCount: count, sizeBytes: dataBytes, idField: usesField ? idField : null });
  });
}

/** Uploaded and demo datasets, newest first (inline ones belong to their batch and are not listed). */
export async function listDatasets(options: { cursor?: string | null; limit: number }): Promise<Page<Dataset>> {
  const prisma = getPrisma();
  const kinds = { in: ["upload", "demo"] as ("upload" | "demo")[] };
  const after = decodeCursor(options.cursor, CURSORS.createdAt);
  const where = after
    ? {
        kind: kinds,
        OR: [
          { createdAt: { lt: new Date(after[0]) } },
          { createdAt: new Date(after[0]), id: { lt: after[1] } },
        ],
      }
    : { kind: kinds };
  const [models, total] = await Promise.all([
    prisma.dataset.findMany({ where, orderBy: [{ createdAt: "desc" }, { id: "desc" }], take: options.limit + 1 }),
    prisma.dataset.count({ where: { kind: kinds } }),
  ]);
  const items = models.slice(0, options.limit).map(fromModel);
  const last = items[items.length - 1];
  const nextCursor = models.length > options.limit && last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null;
  return { items, nextCursor, total };
}

/** A dataset by id, else by name; 404 when neither. */
export async function getDataset(idOrName: string): Promise<Dataset> {
  const prisma = getPrisma();
  const model =
    (await prisma.dataset.findUnique({ where: { id: idOrName } })) ??
    (await prisma.dataset.findUnique({ where: { name: idOrName } }));
  if (!model) throw notFound("dataset", idOrName);
  return fromModel(model);
}

/** A dataset's records in source order, keyset-paged by position. */
export async function listRecords(
  datasetIdOrName: string,
  options: { cursor?: string | null; limit: number },
): Promise<Page<DatasetRecordItem>> {
  const dataset = await getDataset(datasetIdOrName);
  const after = decodeCursor(options.cursor, CURSORS.ordinal)?.[0] ?? -1;
  const models = await getPrisma().datasetRecord.findMany({
    where: { datasetId: dataset.id, position: { gt: after } },
    orderBy: { position: "asc" },
    take: options.limit + 1,
    select: { recordId: true, position: true, data: true },
  });
  const items = models.slice(0, options.limit).map((m) => ({ recordId: m.recordId, position: m.position, data: m.data as unknown }));
  const last = items[items.length - 1];
  const nextCursor = models.length > options.limit && last ? encodeCursor([last.position]) : null;
  return { items, nextCursor, total: dataset.recordCount };
}

/**
 * Deletes a dataset and its records. 409 while an unfinished batch reads it; finished batches
 * keep their results and lose only the link (their record data goes with the dataset).
 */
export async function deleteDataset(idOrName: string): Promise<void> {
  const dataset = await getDataset(idOrName);
  await deleteDatasetById(dataset.id, idOrName);
}

/**
 * Deletes a dataset by id, as deleteDataset does (`label` names it in a 404). SQL in one pg
 * transaction (lib/db/sql/datasets.ts): the worker's /v1 sweep calls it, and the worker does not
 * load Prisma Client (its engine doubled a worker's RSS, 108 -> 220 MB).
 */
export async function deleteDatasetById(id: string, label = id): Promise<void> {
  const out = await withTx((client) => deleteDatasetRows(client, id));
  if (out === "gone") throw notFound("dataset", label);
  if (out.activeBatchIds.length) {
    const ids = out.activeBatchIds;
    throw new AppError("conflict", `dataset ${JSON.stringify(out.name)} is used by an unfinished batch`, [
      { path: "id", message: `cancel or finish batch ${ids.join(", ")} first`, batches: ids },
    ]);
  }
}

/** The shipped demo file (data/demo/reviews.jsonl), resolved from the app's working directory. */
export function demoDatasetFile(): string {
  return path.join(process.cwd(), "data", "demo", "reviews.jsonl");
}

/**
 * Loads the demo dataset ("demo-reviews") unless it exists. Safe to call from several processes at
 * once: the loser of the race hits the unique name and leaves the winner's copy.
 */
export async function ensureDemoDataset(options: { file?: string } = {}): Promise<void> {
  const existing = await getPrisma().dataset.findUnique({ where: { name: DEMO_DATASET_NAME }, select: { id: true } });
  if (existing) return;
  try {
    await importDataset({
      name: DEMO_DATASET_NAME,
      format: "jsonl",
      kind: "demo",
      idField: "id",
      description: "3,000 short product, app and restaurant reviews with mixed sentiment, for trying classify and review.",
      body: createReadStream(options.file ?? demoDatasetFile()),
      maxBytes: Number.MAX_SAFE_INTEGER,
    });
  } catch (err) {
    if (err instanceof AppError && err.code === "conflict") return;
    throw err;
  }
}
