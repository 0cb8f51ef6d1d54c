// Prompts: questions flows ask through ctx.ask() in interactive batches, answered in the Inbox.
import type pg from "pg";
import { AppError } from "@/lib/errors";
import type { PromptInput } from "@/lib/flows/types";
import { lockBatch } from "./batches";
import { getPool } from "@/lib/db/client";
import {
  askedPrompt,
  expireDuePrompts,
  insertPrompt,
  listPromptRows,
  lockBatchesById,
  lockJobStatus,
  lockPrompt,
  NO_OPEN_PROMPT,
  promptJob,
  readPrompt,
  storeAnswer,
  type AskedPromptRow,
} from "@/lib/db/sql/prompts";
import { withTx } from "./db";
import { notifyBatch, notifyPrompts } from "./events";
import { newId } from "./ids";
import { CURSORS, decodeCursor, encodeCursor } from "@/lib/db/cursor";
import { toPrompt } from "./map";
import { wakeParked } from "./transitions";
import type { Page, Prompt, PromptStatus } from "./types";

export interface ListPromptsOptions {
  status?: PromptStatus[];
  batchId?: string;
  cursor?: string | null;
  limit: number;
}

export async function listPrompts(opts: ListPromptsOptions): Promise<Page<Prompt>> {
  const cursor = decodeCursor(opts.cursor, CURSORS.createdAt);
  const limit = Math.max(1, Math.min(opts.limit, 500));
  const page = await listPromptRows(getPool(), {
    status: opts.status,
    batchId: opts.batchId,
    after: cursor ? { createdAt: new Date(cursor[0]), id: cursor[1] } : undefined,
    limit: limit + 1,
  });
  const rows = page.rows.slice(0, limit);
  const last = rows[rows.length - 1];
  return {
    items: rows.map(toPrompt),
    nextCursor: page.rows.length > limit && last ? encodeCursor([last.created_at.toISOString(), last.id]) : null,
    total: page.total,
  };
}

export async function getPrompt(id: string): Promise<Prompt> {
  const row = await readPrompt(getPool(), id);
  if (!row) throw new AppError("not_found", `prompt ${JSON.stringify(id)} not found`);
  return toPrompt(row);
}

function invalid(message: string): AppError {
  return new AppError("validation_failed", `invalid answer: ${message}`, [{ path: "answer", message }]);
}

/** Checks an answer against the prompt's input spec; returns the value to store. */
export function validateAnswer(input: PromptInput, answer: unknown): unknown {
  switch (input.type) {
    case "choice": {
      if (typeof answer !== "string") throw invalid("must be a string");
      if (input.options.some((o) => o.value === answer)) return answer;
      if (input.allowFreeText && answer.trim() !== "") return answer;
      throw invalid(`must be one of ${input.options.map((o) => JSON.stringify(o.value)).join(", ")}`);
    }
    case "text":
      if (typeof answer !== "string") throw invalid("must be a string");
      if (input.maxLength !== undefined && answer.length > input.maxLength) throw invalid(`at most ${input.maxLength} characters`);
      return answer;
    case "number":
      if (typeof answer !== "number" || !Number.isFinite(answer)) throw invalid("must be a number");
      if (input.min !== undefined && answer < input.min) throw invalid(`must be >= ${input.min}`);
      if (input.max !== undefined && answer > input.max) throw invalid(`must be <= ${input.max}`);
      return answer;
    case "boolean":
      if (typeof answer !== "boolean") throw invalid("must be true or false");
      return answer;
    case "json":
      if (answer === undefined) throw invalid("is required");
      return answer;
    default:
      throw invalid("unknown input type");
  }
}

interface ClosedPrompt {
  status: PromptStatus;
  answer: unknown;
  answered_by: string | null;
  answered_at: Date | null;
}

/**
 * A prompt no longer open refuses an answer with what happened to it: who answered, when and the
 * answer kept, so a person answering from a stale screen learns that theirs was discarded.
 */
function closedConflict(p: ClosedPrompt): AppError {
  const message =
    p.status === "answered"
      ? `prompt was already answered${p.answered_by ? ` by ${p.answered_by}` : ""}${p.answered_at ? ` at ${p.answered_at.toISOString()}` : ""}`
      : `prompt is ${p.status}`;
  return new AppError("conflict", message, [
    {
      path: "answer",
      message,
      status: p.status,
      answered_by: p.answered_by,
      answered_at: p.answered_at?.toISOString() ?? null,
      answer: p.status === "answered" ? (p.answer ?? null) : null,
    },
  ]);
}

/**
 * Answers an open prompt. If its job is already parked (waiting_input) it becomes runnable at once;
 * if the job has not parked yet, the worker's park step sees the answer and re-queues instead, so an
 * early answer is never lost (both sides lock the job row; see wakeJobs).
 */
export async function answerPrompt(id: string, answer: unknown, answeredBy: string | null): Promise<Prompt> {
  const batch = await withTx(async (client) => {
    const p = await promptJob(client, id);
    if (!p) throw new AppError("not_found", `prompt ${JSON.stringify(id)} not found`);
    const { batch_id, job_id } = p;
    const locked = await lockBatch(client, batch_id);
    const jobStatus = await lockJobStatus(client, job_id);
    const cur = (await lockPrompt(client, id))!;
    if (cur.status !== "open") throw closedConflict(cur);
    const value = validateAnswer(cur.input, answer);
    await storeAnswer(client, id, value, answeredBy);
    if (jobStatus === "waiting_input") await wakeJobs(client, [job_id]);
    return { id: batch_id, status: locked.status };
  });
  notifyPrompts(batch.id);
  notifyBatch(batch.id, batch.status);
  return getPrompt(id);
}

/**
 * Parked jobs with no open prompt left go back to pending (run at once). Caller holds the batch
 * locks. Returns the number woken.
 */
export function wakeJobs(client: pg.ClientBase, jobIds: number[]): Promise<number> {
  return wakeParked(client, jobIds, "waiting_input", NO_OPEN_PROMPT);
}

/** Open prompts past their expiry resolve: the job re-runs and ask() returns the default, or fails. */
export async function expirePrompts(limit = 500): Promise<number> {
  const batches = await withTx(async (client) => {
    const rows = await expireDuePrompts(client, limit);
    if (rows.length === 0) return [];
    const ids = [...new Set(rows.map((r) => r.batch_id))].sort();
    await lockBatchesById(client, ids);
    await wakeJobs(client, rows.map((r) => r.job_id));
    return ids;
  });
  for (const b of batches) {
    notifyPrompts(b);
    notifyBatch(b, "running");
  }
  return batches.length;
}

/** A job's prompt as its flow's ask() sees it. */
export type AskedPrompt = AskedPromptRow;

/** The prompt `key` of job `jobId`, if the job asked it before (an earlier attempt or run). */
export async function findAskedPrompt(jobId: number, key: string): Promise<AskedPrompt | null> {
  return (await askedPrompt(getPool(), jobId, key)) ?? null;
}

export interface NewPrompt {
  jobId: number;
  batchId: string;
  key: string;
  question: string;
  /** the input spec as JSON text */
  input: string;
  /** the default as JSON text, or null for none */
  defaultValue: string | null;
  /** expires this long after now (null: never) */
  timeoutMs: number | null;
}

/** Opens a prompt for a job about to park (a second ask of the same key keeps the first), and tells the Inbox. */
export async function openPrompt(p: NewPrompt): Promise<void> {
  await insertPrompt(getPool(), { id: newId("prm"), ...p });
  notifyPrompts(p.batchId);
}
