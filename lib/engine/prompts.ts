// Prompts: questions flows ask through ctx.ask() in interactive batches, answered in the Inbox.
import type pg from "pg";
import { AppError } from "@/lib/errors";
import type { PromptInput } from "@/lib/flows/types";
import { lockBatch } from "./batches";
import { query, withTx } from "./db";
import { notifyBatch, notifyPrompts } from "./events";
import { newId } from "./ids";
import { CURSORS, decodeCursor, encodeCursor } from "@/lib/db/cursor";
import { PROMPT_SELECT, toPrompt, type PromptRow } from "./map";
import { wakeParked } from "./transitions";
import type { Page, Prompt, PromptStatus } from "./types";

export interface ListPromptsOptions {
  status?: PromptStatus[];
  batchId?: string;
  cursor?: string | null;
  limit: number;
}

export async function listPrompts(opts: ListPromptsOptions): Promise<Page<Prompt>> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (opts.status?.length) {
    params.push(opts.status);
    where.push(`p.status = ANY($${params.length}::prompt_status[])`);
  }
  if (opts.batchId) {
    params.push(opts.batchId);
    where.push(`p.batch_id = $${params.length}`);
  }
  const filterWhere = [...where];
  const filterParams = [...params];
  const cursor = decodeCursor(opts.cursor, CURSORS.createdAt);
  if (cursor) {
    params.push(new Date(cursor[0]), cursor[1]);
    where.push(`(p.created_at, p.id) > ($${params.length - 1}, $${params.length})`);
  }
  const limit = Math.max(1, Math.min(opts.limit, 500));
  params.push(limit + 1);
  const w = (list: string[]) => (list.length ? `WHERE ${list.join(" AND ")}` : "");
  const [page, count] = await Promise.all([
    query<PromptRow>(`SELECT ${PROMPT_SELECT} ${w(where)} ORDER BY p.created_at, p.id LIMIT $${params.length}`, params),
    query<{ n: number }>(`SELECT count(*)::int AS n FROM prompts p ${w(filterWhere)}`, filterParams),
  ]);
  const rows = page.rows.slice(0, limit);
  const last = rows[rows.length - 1];
  return {
    items: rows.map(toPrompt),
    nextCursor: page.rows.length > limit && last ? encodeCursor([last.created_at.toISOString(), last.id]) : null,
    total: count.rows[0]?.n ?? 0,
  };
}

export async function getPrompt(id: string): Promise<Prompt> {
  const { rows } = await query<PromptRow>(`SELECT ${PROMPT_SELECT} WHERE p.id = $1`, [id]);
  if (!rows[0]) throw new AppError("not_found", `prompt ${JSON.stringify(id)} not found`);
  return toPrompt(rows[0]);
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
    const p = await client.query<{ batch_id: string; job_id: number }>(`SELECT batch_id, job_id FROM prompts WHERE id = $1`, [id]);
    if (!p.rows[0]) throw new AppError("not_found", `prompt ${JSON.stringify(id)} not found`);
    const { batch_id, job_id } = p.rows[0];
    const locked = await lockBatch(client, batch_id);
    const job = await client.query<{ status: string }>(`SELECT status FROM jobs WHERE id = $1 FOR UPDATE`, [job_id]);
    const prompt = await client.query<ClosedPrompt & { input: PromptInput }>(
      `SELECT status, input, answer, answered_by, answered_at FROM prompts WHERE id = $1 FOR UPDATE`,
      [id],
    );
    const cur = prompt.rows[0]!;
    if (cur.status !== "open") throw closedConflict(cur);
    const value = validateAnswer(cur.input, answer);
    await client.query(
      `UPDATE prompts SET status = 'answered', answer = $2::jsonb, answered_by = $3, answered_at = now() WHERE id = $1`,
      [id, JSON.stringify(value), answeredBy],
    );
    if (job.rows[0]?.status === "waiting_input") await wakeJobs(client, [job_id]);
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
  return wakeParked(client, jobIds, "waiting_input", `NOT EXISTS (SELECT 1 FROM prompts p WHERE p.job_id = j.id AND p.status = 'open')`);
}

/** Open prompts past their expiry resolve: the job re-runs and ask() returns the default, or fails. */
export async function expirePrompts(limit = 500): Promise<number> {
  const batches = await withTx(async (client) => {
    const { rows } = await client.query<{ job_id: number; batch_id: string }>(
      `WITH due AS (SELECT id FROM prompts WHERE status = 'open' AND expires_at <= now() ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       UPDATE prompts p SET status = 'expired' FROM due WHERE p.id = due.id RETURNING p.job_id, p.batch_id`,
      [limit],
    );
    if (rows.length === 0) return [];
    const ids = [...new Set(rows.map((r) => r.batch_id))].sort();
    await client.query(`SELECT id FROM batches WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`, [ids]);
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
export interface AskedPrompt {
  status: PromptStatus;
  answer: unknown;
  default_value: unknown;
  answered_by: string | null;
  answered_at: Date | null;
}

/** The prompt `key` of job `jobId`, if the job asked it before (an earlier attempt or run). */
export async function findAskedPrompt(jobId: number, key: string): Promise<AskedPrompt | null> {
  const { rows } = await query<AskedPrompt>(
    `SELECT status, answer, default_value, answered_by, answered_at FROM prompts WHERE job_id = $1 AND key = $2`,
    [jobId, key],
  );
  return rows[0] ?? null;
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
  await query(
    `INSERT INTO prompts (id, job_id, batch_id, key, question, input, default_value, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $8::float8 / 1000) END)
     ON CONFLICT (job_id, key) DO NOTHING`,
    [newId("prm"), p.jobId, p.batchId, p.key, p.question, p.input, p.defaultValue, p.timeoutMs],
  );
  notifyPrompts(p.batchId);
}
