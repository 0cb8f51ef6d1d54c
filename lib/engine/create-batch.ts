// Creating a batch: validate the flow and its parameters, resolve the source to a dataset (inline
// records become an `inline` dataset owned by the batch), then create every job in one statement,
// in seeded-shuffle order (set-based: 100,000 rows in about a second). Large inline batches write
// their records and their jobs on two connections at once (createInlineOnTwoConnections).
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import type { z } from "zod";
import { batchOptionsSchema, type createBatchSchema } from "@/lib/contract/batch-options";
import { getConfig } from "@/lib/config";
import { checkOutboundUrlStatic } from "@/lib/flows/outbound";
import { extractRecordIds, type RecordWithId } from "@/lib/datasets/record-ids";
import { COPY_CHUNK_CHARS, escapeCopyText, writeDatasetRecords } from "@/lib/datasets/write-records";
import { AppError, validationError } from "@/lib/errors";
import { getFlowOrThrow, parseFlowParameters, resolveChunkSize } from "@/lib/flows/registry";
import { getPool } from "@/lib/db/client";
import { withImportConnections } from "@/lib/db/imports";
import {
  copyJobRows,
  deleteDatasetRow,
  insertBatch,
  insertInlineDatasetRow,
  insertJobsFromDataset,
  readBatchRowById,
  setBatchTotal,
  setDatasetSize,
  shareDatasetByRef,
} from "@/lib/db/sql/create-batch";
import { rowTriggersOff } from "@/lib/db/triggers";
import { inTransactionOn } from "@/lib/db/tx";
import { withTx } from "./db";
import { notifyBatch } from "./events";
import { newId } from "./ids";
import { reuseResults } from "./result-cache";
import { rateLimitAsked, resolveRateLimit, upsertRateLimit, type ResolvedRateLimit } from "./rate-limits";
import { RunOrder } from "./run-order";
import { toBatch, type BatchRead, type BatchRow } from "./map";
import type { BatchSource, RecordSelection } from "./types";

const DRY_RUN_RECORDS = 10;

/** The POST /api/batches body as validated (createBatchSchema's output): the wire contract. */
type CreateBatchBody = z.output<typeof createBatchSchema>;

/**
 * What createBatch takes: the body's settings as the wire names them, each optional (left out, the
 * schema's default applies: createBatch parses them with batchOptionsSchema), and the source its
 * dataset / records / record_id_field resolve to.
 */
export type CreateBatchInput = Pick<CreateBatchBody, "flow"> &
  Partial<Omit<CreateBatchBody, "flow" | "dataset" | "records" | "record_id_field">> & { source: BatchSource };

/**
 * The settings checked by the same schema as POST /api/batches' body (batchOptionsSchema, of which
 * createBatchSchema is made), whoever the caller (a run again, /v1, /batch, /api/batch): a setting out
 * of range is the one validation error, naming the field, before anything is written. Left out, a
 * setting takes the schema's default. The webhook URL is then held to the outbound rules.
 */
function checkOptions(input: CreateBatchInput): CreateBatchInput {
  const parsed = batchOptionsSchema.safeParse(input);
  if (!parsed.success) throw validationError(parsed.error, "batch options");
  const checked = { ...input, ...parsed.data };
  if (checked.webhook_url) {
    // the same rules as the http flow's outbound calls: scheme, no credentials, BATCHBOARD_HTTP_ALLOWLIST
    const check = checkOutboundUrlStatic(checked.webhook_url);
    if (!check.ok) throw new AppError("validation_failed", `webhook_url: ${check.reason}`, [{ path: "webhook_url", message: check.reason }]);
  }
  return checked;
}

/**
 * A dataset's jobs, numbered in SQL where the rows are (never shipped to Node): ordered by
 * md5(seed:position), a deterministic pseudo-random permutation of the source (same seed, same
 * order; lib/engine/run-order.ts), then position; with no seed (unshuffled), source order. The hex
 * digests compare bytewise (COLLATE "C": the order any collation gives such strings, without its
 * cost); one sort serves the numbering and the insert order, and gets the memory not to spill.
 */
async function insertJobs(
  client: pg.ClientBase,
  batchId: string,
  datasetId: string,
  seed: string | null,
  cap: number | null,
  only: RecordSelection | undefined,
) {
  return insertJobsFromDataset(client, { batchId, datasetId, seed, cap, onlyBatchId: only?.batchId ?? null, onlyStatuses: only?.statuses ?? null, onlyRecordIds: only?.recordIds ?? null });
}

/**
 * Inline records' jobs, from the records in memory and their run order: COPY writes the rows a page
 * at a time where INSERT … SELECT inserts them one by one, and there is no sort left to do in SQL
 * (100,000 jobs: ~0.4-0.5 s less, measured).
 */
async function copyJobs(client: pg.ClientBase, batchId: string, records: readonly RecordWithId[], order: Uint32Array, cap: number | null) {
  const count = cap === null ? order.length : Math.min(cap, order.length);
  const batchField = escapeCopyText(batchId);
  function* chunks(): Generator<string> {
    let buf = "";
    for (let ordinal = 0; ordinal < count; ordinal++) {
      const position = order[ordinal]!;
      buf += `${batchField}\t${escapeCopyText(records[position]!.recordId)}\t${ordinal}\t${position}\n`;
      if (buf.length >= COPY_CHUNK_CHARS) {
        yield buf;
        buf = "";
      }
    }
    if (buf) yield buf;
  }
  await pipeline(Readable.from(chunks()), copyJobRows(client));
  return count;
}

/** A batch whose inline records and jobs both reach this many rows writes them on two connections. */
export const PARALLEL_INLINE_MIN = 20_000;

export interface CreateBatchOptions {
  /** inline batches of at least this many records and jobs use two connections (tests lower it) */
  parallelInlineMin?: number;
  /** runs in the creating transaction just before it commits (an Idempotency-Key's stored response) */
  beforeCommit?: (client: pg.ClientBase, batch: BatchRead) => Promise<void>;
}

export async function createBatch(given: CreateBatchInput, options: CreateBatchOptions = {}): Promise<BatchRead> {
  const flow = getFlowOrThrow(given.flow);
  const parameters = parseFlowParameters(flow, given.parameters);
  const input = checkOptions(given);
  const chunkSize = resolveChunkSize(flow, input.chunk_size, parameters);
  if (input.interactive && (parameters as { mode?: unknown } | null)?.mode === "provider_batch") {
    const message = "a provider batch cannot ask anyone anything: mode provider_batch runs without interactive";
    throw new AppError("validation_failed", `interactive: ${message}`, [{ path: "interactive", message }]);
  }
  const config = getConfig();
  const id = newId("batch");
  const seed = input.seed ?? randomBytes(8).toString("hex");
  const shuffle = input.shuffle ?? true;
  const dryRun = input.dry_run ?? false;
  let cap = input.max_records ?? null;
  if (dryRun) cap = Math.min(cap ?? DRY_RUN_RECORDS, DRY_RUN_RECORDS);

  // inline records are validated before any transaction opens
  const source = input.source;
  const inline = source.kind === "records" ? extractRecordIds(source.records, source.recordIdField || "id", "records") : null;
  if (inline && inline.length > config.BATCHBOARD_MAX_INLINE_RECORDS) {
    throw new AppError("limit_exceeded", `at most ${config.BATCHBOARD_MAX_INLINE_RECORDS} inline records`, [
      { path: "records", message: `at most ${config.BATCHBOARD_MAX_INLINE_RECORDS} records` },
    ]);
  }
  if (inline) await flow.checkSource?.(parameters, { datasetId: null, name: "records", format: "inline", db: getPool() });
  const cache = input.cache ?? flow.cache ?? false;
  const rateLimit = input.rate_limit ? resolveRateLimit(id, input.rate_limit) : null;
  const batchRow: BatchRowValues = { id, name: input.name ?? null, flow: flow.name, parameters, shuffle, seed, dryRun, cache, chunkSize, input, rateLimit };
  const idField = source.kind === "records" ? source.recordIdField || "id" : null;

  let row: BatchRow;
  if (inline && Math.min(inline.length, cap ?? Infinity) >= (options.parallelInlineMin ?? PARALLEL_INLINE_MIN)) {
    row = await createInlineOnTwoConnections(batchRow, inline, idField, cap, options.beforeCommit);
  } else {
    row = await withTx(async (client) => {
      let datasetId: string;
      let available: number;
      const runOrder = inline ? new RunOrder(inline.length, shuffle ? seed : null) : null;
      if (inline) {
        datasetId = await insertInlineDataset(client, id, idField);
        // the run order is hashed as the records stream to PostgreSQL, which is the slower side
        available = (await writeInlineRecords(client, datasetId, runOrder!.hashing(inline))).count;
      } else {
        const ref = source.kind === "dataset" ? source.dataset : flow.defaultDataset;
        const path = source.kind === "dataset" ? "dataset" : "flow";
        if (!ref) {
          throw new AppError("validation_failed", `flow ${JSON.stringify(flow.name)} has no default dataset: give dataset or records`, [
            { path, message: "no source given and the flow has no default dataset" },
          ]);
        }
        const ds = await shareDatasetByRef(client, ref);
        if (!ds) {
          if (source.kind === "dataset") throw new AppError("not_found", `dataset ${JSON.stringify(ref)} not found`, [{ path, message: "no such dataset" }]);
          throw new AppError("validation_failed", `the default dataset ${JSON.stringify(ref)} of flow ${JSON.stringify(flow.name)} does not exist`, [
            { path, message: `default dataset ${JSON.stringify(ref)} does not exist` },
          ]);
        }
        datasetId = ds.id;
        available = ds.record_count;
        await flow.checkSource?.(parameters, { datasetId, name: ds.name, format: ds.format, db: client });
      }
      checkBatchSize(cap === null ? available : Math.min(cap, available), available);
      await insertBatchRow(client, batchRow, datasetId);
      // Every job references the batch row inserted just above: the per-row FK check is skipped (where
      // allowed). Jobs go in in run order (the claim's order).
      const triggersOn = await rowTriggersOff(client);
      const total =
        runOrder && inline
          ? await copyJobs(client, id, inline, runOrder.positions(), cap)
          : await insertJobs(client, id, datasetId, shuffle ? seed : null, cap, source.kind === "dataset" ? source.only : undefined);
      await triggersOn();
      if (total === 0) {
        if (source.kind === "dataset" && source.only) {
          throw new AppError("validation_failed", "no record matches the selection", [{ path: "records", message: "no record to run again" }]);
        }
        throw new AppError("validation_failed", "the source has no records", [
          { path: source.kind === "records" ? "records" : "dataset", message: "no records to run" },
        ]);
      }
      const created = await setTotal(client, id, total, batchRow);
      await options.beforeCommit?.(client, toBatch(created));
      return created;
    });
  }
  notifyBatch(row.id, row.status);
  return toBatch(row);
}

interface BatchRowValues {
  id: string;
  name: string | null;
  flow: string;
  parameters: unknown;
  shuffle: boolean;
  seed: string;
  dryRun: boolean;
  cache: boolean;
  chunkSize: number;
  input: CreateBatchInput;
  rateLimit: ResolvedRateLimit | null;
}

function checkBatchSize(count: number, available: number) {
  const max = getConfig().BATCHBOARD_MAX_RECORDS_PER_BATCH;
  if (count > max) {
    const message = `a batch holds at most ${max} records (this source has ${available}); set max_records`;
    throw new AppError("limit_exceeded", message, [{ path: "max_records", message }]);
  }
}

/** The `inline` dataset that holds a batch's records: it belongs to the batch (and is not listed). */
async function insertInlineDataset(client: pg.ClientBase, batchId: string, idField: string | null): Promise<string> {
  const datasetId = newId("ds");
  await insertInlineDatasetRow(client, datasetId, `inline:${batchId}`, idField);
  return datasetId;
}

async function writeInlineRecords(client: pg.ClientBase, datasetId: string, records: Iterable<RecordWithId>) {
  const written = await writeDatasetRecords(client, datasetId, records);
  await setDatasetSize(client, datasetId, written.count, written.dataBytes);
  return written;
}

async function insertBatchRow(client: pg.ClientBase, b: BatchRowValues, datasetId: string) {
  const { input } = b;
  await insertBatch(client, [
      b.id,
      b.name,
      b.flow,
      JSON.stringify(b.parameters ?? {}),
      datasetId,
      b.shuffle,
      b.seed,
      input.max_records ?? null,
      input.concurrency ?? 5,
      input.error_policy ?? "continue",
      input.error_threshold?.rate ?? null,
      input.error_threshold?.min_finished ?? null,
      input.interactive ?? false,
      input.max_retries ?? 0,
      input.retry_backoff_ms ?? 1000,
      input.timeout_ms ?? null,
      input.max_cost ?? null,
      input.priority ?? 0,
      JSON.stringify(input.metadata ?? {}),
      input.webhook_url ?? null,
      b.dryRun,
      input.max_interruptions ?? 3,
      input.cost_reservation == null ? null : input.cost_reservation === "mean" ? "mean" : "per_record",
      input.cost_reservation != null && input.cost_reservation !== "mean" ? input.cost_reservation.per_record : null,
      input.ttl_seconds ?? null,
      input.save_raw ?? false,
      b.cache,
      input.cache_max_age ?? null,
      input.cache_answers ?? false,
      input.rate_limit ? JSON.stringify(rateLimitAsked(input.rate_limit)) : null,
      b.rateLimit?.key ?? null,
      b.chunkSize,
  ]);
  if (b.rateLimit) await upsertRateLimit(client, b.id, b.rateLimit);
}

/** The batch's job count; then, with `cache`, the results reused from earlier batches (./result-cache). */
async function setTotal(client: pg.ClientBase, id: string, total: number, b: BatchRowValues): Promise<BatchRow> {
  const row = await setBatchTotal(client, id, total);
  if (!b.cache) return row;
  const reused = await reuseResults(client, {
    batchId: id,
    flow: b.flow,
    parameters: b.parameters,
    maxAgeSeconds: b.input.cache_max_age ?? null,
    answers: b.input.cache_answers ?? false,
  });
  if (reused.jobs === 0) return row;
  return readBatchRowById(client, id);
}

/**
 * A large inline batch: its records and its jobs are two COPYs of similar size, each bound by one
 * PostgreSQL backend's CPU, so they run at once on two connections (two transactions), both taken
 * together from the import pool (lib/db/imports.ts: an import never waits for one while holding the other):
 *  - the inline datasets row is committed first (both sides reference it);
 *  - connection A copies the records and commits;
 *  - connection B inserts the batch and copies its jobs, and commits only once A has: the batch never
 *    exists without its records, and a failure of A rolls B back;
 *  - whatever fails, the dataset is deleted again (with any records A committed); if the process
 *    dies between A's and B's commits, sweepOrphanInlineDatasets() removes the dataset later.
 * The jobs' run order needs every record's hash before their first row: it is computed while the
 * records' COPY is under way.
 */
async function createInlineOnTwoConnections(
  row: BatchRowValues,
  inline: RecordWithId[],
  idField: string | null,
  cap: number | null,
  beforeCommit: CreateBatchOptions["beforeCommit"],
): Promise<BatchRow> {
  checkBatchSize(cap === null ? inline.length : Math.min(cap, inline.length), inline.length);
  return withImportConnections(2, async ([a, b]) => {
    const datasetId = await insertInlineDataset(a!, row.id, idField);
    const records = inTransactionOn(a!, () => writeInlineRecords(a!, datasetId, inline));
    records.catch(() => {}); // awaited below; no unhandled rejection meanwhile
    const order = new RunOrder(inline.length, row.shuffle ? row.seed : null).positionsInSlices();
    const jobs = inTransactionOn(b!, async () => {
      await insertBatchRow(b!, row, datasetId);
      const triggersOn = await rowTriggersOff(b!);
      const total = await copyJobs(b!, row.id, inline, await order, cap);
      await triggersOn();
      await records; // B commits after A, and not at all if A failed
      const created = await setTotal(b!, row.id, total, row);
      await beforeCommit?.(b!, toBatch(created));
      return created;
    });
    const [r, j] = await Promise.allSettled([records, jobs]);
    if (r.status === "fulfilled" && j.status === "fulfilled") return j.value;
    await deleteDatasetRow(a!, datasetId).catch(() => deleteDatasetRow(b!, datasetId)).catch(() => {});
    throw r.status === "rejected" ? r.reason : (j as PromiseRejectedResult).reason;
  });
}
