// /v1/batches: a /v1 batch is an ordinary batch of the `openai` flow over its input file's dataset
// (dashboard, CLI, pause/resume/retry/cancel, cost and budget all apply), plus an openai_batches row
// with what the OpenAI object needs. The input is validated as OpenAI does: a bad file gives a batch
// that is `failed` with `errors` naming each line, and nothing runs.
import "server-only";
import type pg from "pg";
import { getPool, getPrisma } from "@/lib/db/client";
import {
  getOpenAIBatchRow,
  insertFailedOpenAIBatch,
  insertOpenAIBatch,
  listOpenAIBatchRows,
  mismatchedUrls,
  requestModels,
  unfinalizeOpenAIBatches,
} from "@/lib/db/sql/openai";
import { withTx } from "@/lib/db/tx";
import { fitBatchName } from "@/lib/contract/batch-options";
import { cancelBatch, createBatch } from "@/lib/engine";
import { notifyBatch } from "@/lib/engine/events";
import { newId } from "@/lib/engine/ids";
import { AppError } from "@/lib/errors";
import { findFile, listPage, noSuchFile, type ListPage } from "./files";
import { invalid } from "./http";
import { lineOf, MAX_PROBLEMS, MAX_REQUESTS, type LineProblem } from "./input-file";
import { isFinalized, toBatchObject, type BatchJoinRow, type BatchObject, type FileRow } from "./objects";
import type { CreateBatchRequest } from "./schemas";

/** A /v1 batch's options when the request names none: sized for a hosted API, tunable per batch. */
export const V1_DEFAULTS = { concurrency: 16, maxRetries: 5, retryBackoffMs: 1000, timeoutMs: 600_000 } as const;
const COMPLETION_WINDOW_HOURS: Record<string, number> = { "24h": 24 };

const noSuchBatch = (id: string, param = "batch_id") => new AppError("not_found", `No such Batch: ${id}`, [{ path: param, message: "no such batch" }]);

/**
 * A batch counted for an earlier completion ran again (a retry from the dashboard or the CLI): it is
 * handed back to the sweep now rather than at its next reconciliation.
 */
async function recount(rows: BatchJoinRow[]): Promise<void> {
  const stale = rows.filter((r) => r.finalized_at && !r.errors && !isFinalized(r)).map((r) => r.id);
  if (stale.length) await unfinalizeOpenAIBatches(getPool(), stale);
}

export async function getV1Batch(id: string): Promise<BatchObject> {
  const row = await getOpenAIBatchRow(getPool(), id);
  if (!row) throw noSuchBatch(id);
  await recount([row]);
  return toBatchObject(row);
}

/** GET /v1/batches: newest first, keyset-paged after a batch id. */
export async function listV1Batches(q: { after?: string; limit: number }): Promise<ListPage<BatchObject>> {
  let after: { createdAt: Date; id: string } | null = null;
  if (q.after) {
    const createdAt = (await getPrisma().openAIBatch.findUnique({ where: { batchId: q.after }, select: { createdAt: true } }))?.createdAt;
    if (!createdAt) throw invalid("after", `No such Batch: ${q.after}`);
    after = { createdAt, id: q.after };
  }
  const rows = await listOpenAIBatchRows(getPool(), after, q.limit + 1);
  const page = listPage(rows, q.limit);
  await recount(page.data);
  return { ...page, data: page.data.map(toBatchObject) };
}

/**
 * What is wrong with the input for this endpoint, OpenAI's way: the lines the upload set aside, every
 * request whose url is not the batch's endpoint, an empty file, more than MAX_REQUESTS lines. Reads
 * at most MAX_PROBLEMS lines' worth, from an index-ordered scan of the file's records.
 */
async function validateInput(file: FileRow, endpoint: string): Promise<{ problems: LineProblem[]; model: string | null }> {
  const problems: LineProblem[] = [...file.problems];
  if (file.line_count === 0) problems.push({ code: "empty_file", message: "The batch input file is empty.", param: null, line: null });
  if (file.line_count > MAX_REQUESTS) {
    problems.push({
      code: "too_many_tasks",
      message: `The batch input file has ${file.line_count} requests; a batch holds at most ${MAX_REQUESTS}.`,
      param: null,
      line: null,
    });
  }
  const pool = getPool();
  for (const r of await mismatchedUrls(pool, file.dataset_id, endpoint, MAX_PROBLEMS)) {
    problems.push({
      code: "url_mismatch",
      message: `The url of this request does not match the batch's endpoint ${endpoint}.`,
      param: "url",
      line: lineOf(r.position, file.line_breaks),
    });
  }
  const models = await requestModels(pool, file.dataset_id);
  const model = models.length === 1 ? models[0]!.model : null;
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { problems: problems.slice(0, MAX_PROBLEMS), model };
}

async function insertOpenAIRow(
  client: pg.ClientBase,
  batchId: string,
  req: CreateBatchRequest,
  model: string | null,
  errors: LineProblem[] | null,
): Promise<void> {
  const hours = COMPLETION_WINDOW_HOURS[req.completion_window]!;
  await insertOpenAIBatch(client, {
    batchId,
    inputFileId: req.input_file_id,
    endpoint: req.endpoint,
    completionWindow: req.completion_window,
    hours,
    model,
    errors,
  });
}

const batchName = (req: CreateBatchRequest, file: FileRow) => fitBatchName(`${req.endpoint} · ${file.filename}`);

/** A batch that failed validation: the batch row (failed, no jobs) and its openai_batches row, in one transaction. */
async function createFailedBatch(req: CreateBatchRequest, file: FileRow, problems: LineProblem[], model: string | null): Promise<string> {
  const id = newId("batch");
  await withTx(async (client) => {
    await insertFailedOpenAIBatch(client, {
      id,
      name: batchName(req, file),
      parameters: { endpoint: req.endpoint },
      datasetId: file.dataset_id,
      concurrency: req.batchboard?.concurrency ?? V1_DEFAULTS.concurrency,
      maxRetries: req.batchboard?.max_retries ?? V1_DEFAULTS.maxRetries,
      metadata: req.metadata ?? {},
    });
    await insertOpenAIRow(client, id, req, model, problems);
  });
  notifyBatch(id, "failed");
  return id;
}

/** POST /v1/batches */
export async function createV1Batch(req: CreateBatchRequest): Promise<BatchObject> {
  const file = await findFile(req.input_file_id);
  if (!file) throw noSuchFile(req.input_file_id, "input_file_id");
  if (file.kind !== "input" || !file.dataset_id) {
    throw invalid("input_file_id", `File ${file.id} has purpose '${file.purpose}'; a batch reads a file uploaded with purpose 'batch'.`);
  }
  const { problems, model } = await validateInput(file, req.endpoint);
  if (problems.length) return getV1Batch(await createFailedBatch(req, file, problems, model));
  const options = req.batchboard ?? {};
  let batch;
  try {
    batch = await createBatch(
      {
        flow: "openai",
        name: batchName(req, file),
        parameters: { endpoint: req.endpoint, timeout_ms: options.timeout_ms ?? V1_DEFAULTS.timeoutMs },
        source: { kind: "dataset", dataset: file.dataset_id },
        shuffle: false,
        concurrency: options.concurrency ?? V1_DEFAULTS.concurrency,
        max_retries: options.max_retries ?? V1_DEFAULTS.maxRetries,
        retry_backoff_ms: options.retry_backoff_ms ?? V1_DEFAULTS.retryBackoffMs,
        max_cost: options.max_cost ?? null,
        priority: options.priority ?? 0,
        metadata: req.metadata ?? {},
      },
      { beforeCommit: (client, created) => insertOpenAIRow(client, created.id, req, model, null) },
    );
  } catch (err) {
    // deleted between the lookup and the batch's creation
    if (err instanceof AppError && err.code === "not_found") throw noSuchFile(req.input_file_id, "input_file_id");
    throw err;
  }
  return getV1Batch(batch.id);
}

/** POST /v1/batches/{id}/cancel: the batch is cancelled at once; `cancelling` until its files are counted. */
export async function cancelV1Batch(id: string): Promise<BatchObject> {
  const current = await getV1Batch(id);
  if (!["in_progress", "validating"].includes(current.status)) {
    throw new AppError("conflict", `Cannot cancel a batch with status '${current.status}'.`, [{ path: "batch_id", message: `batch is ${current.status}` }]);
  }
  try {
    await cancelBatch(id);
  } catch (err) {
    if (!(err instanceof AppError && err.code === "conflict")) throw err;
    const now = await getV1Batch(id);
    throw new AppError("conflict", `Cannot cancel a batch with status '${now.status}'.`, [{ path: "batch_id", message: `batch is ${now.status}` }]);
  }
  return getV1Batch(id);
}
