// Prompts (questions flows ask through ctx.ask(), answered in the Inbox). SQL because the Inbox and a
// job's prompts are one join with the job and its record (through Prisma Client a page took five round
// trips and about 50% longer), the answer locks the batch, the job and the prompt in the lock order
// and wakes the job in the same transaction, expiry takes due prompts with FOR UPDATE SKIP LOCKED, and
// an expiry time is on the database's clock.
import type { PromptStatus } from "@/lib/contract/statuses";
import type { PromptInput } from "@/lib/flows/types";
import type { Prompt as PromptModel } from "@/lib/generated/prisma/client";
import type { RowOf } from "../rows";
import type { Queryable } from "./queryable";

/**
 * A prompts row as PROMPT_SELECT reads it, typed by the Prisma model: job_id is a number (lib/db/client.ts
 * parses int8 as one) and input the flow's input spec; with its job's record id and its record's data.
 */
export type PromptRow = Omit<RowOf<PromptModel>, "job_id" | "input"> & {
  job_id: number;
  input: PromptInput;
  record_id: string;
  record?: unknown;
};

/** The select list and joins of a prompt read, for `SELECT ${PROMPT_SELECT} WHERE ...` over `prompts p`. */
export const PROMPT_SELECT = `p.*, j.record_id, r.data AS record
  FROM prompts p JOIN jobs j ON j.id = p.job_id JOIN batches b ON b.id = p.batch_id
  LEFT JOIN dataset_records r ON r.dataset_id = b.dataset_id AND r.position = j.position`;

/** Cancels a batch's open prompts, in the transaction that ends the batch. */
export async function cancelOpenPrompts(db: Queryable, batchId: string): Promise<void> {
  await db.query(`UPDATE prompts SET status = 'cancelled' WHERE batch_id = $1 AND status = 'open'`, [batchId]);
}

/** A job's prompts in the order they were asked. */
export async function promptsOfJob(db: Queryable, jobId: number): Promise<PromptRow[]> {
  const { rows } = await db.query<PromptRow>(`SELECT ${PROMPT_SELECT} WHERE p.job_id = $1 ORDER BY p.created_at, p.id`, [jobId]);
  return rows;
}

/** A page of prompts (oldest first, after (created_at, id)) in `status` and of `batchId`, and how many match. */
export async function listPromptRows(
  db: Queryable,
  f: { status?: string[]; batchId?: string; after?: { createdAt: Date; id: string }; limit: number },
): Promise<{ rows: PromptRow[]; total: number }> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.status?.length) {
    params.push(f.status);
    where.push(`p.status = ANY($${params.length}::prompt_status[])`);
  }
  if (f.batchId) {
    params.push(f.batchId);
    where.push(`p.batch_id = $${params.length}`);
  }
  const filterWhere = [...where];
  const filterParams = [...params];
  if (f.after) {
    params.push(f.after.createdAt, f.after.id);
    where.push(`(p.created_at, p.id) > ($${params.length - 1}, $${params.length})`);
  }
  params.push(f.limit);
  const w = (list: string[]) => (list.length ? `WHERE ${list.join(" AND ")}` : "");
  const [page, count] = await Promise.all([
    db.query<PromptRow>(`SELECT ${PROMPT_SELECT} ${w(where)} ORDER BY p.created_at, p.id LIMIT $${params.length}`, params),
    db.query<{ n: number }>(`SELECT count(*)::int AS n FROM prompts p ${w(filterWhere)}`, filterParams),
  ]);
  return { rows: page.rows, total: count.rows[0]?.n ?? 0 };
}

export async function readPrompt(db: Queryable, id: string): Promise<PromptRow | undefined> {
  const { rows } = await db.query<PromptRow>(`SELECT ${PROMPT_SELECT} WHERE p.id = $1`, [id]);
  return rows[0];
}

export async function promptJob(db: Queryable, id: string): Promise<{ batch_id: string; job_id: number } | undefined> {
  const { rows } = await db.query<{ batch_id: string; job_id: number }>(`SELECT batch_id, job_id FROM prompts WHERE id = $1`, [id]);
  return rows[0];
}

/** Locks a job row (after its batch's), for answering its prompt. */
export async function lockJobStatus(db: Queryable, jobId: number): Promise<string | undefined> {
  const { rows } = await db.query<{ status: string }>(`SELECT status FROM jobs WHERE id = $1 FOR UPDATE`, [jobId]);
  return rows[0]?.status;
}

export interface LockedPrompt {
  status: PromptStatus;
  input: PromptInput;
  answer: unknown;
  answered_by: string | null;
  answered_at: Date | null;
}

export async function lockPrompt(db: Queryable, id: string): Promise<LockedPrompt | undefined> {
  const { rows } = await db.query<LockedPrompt>(`SELECT status, input, answer, answered_by, answered_at FROM prompts WHERE id = $1 FOR UPDATE`, [id]);
  return rows[0];
}

export async function storeAnswer(db: Queryable, id: string, value: unknown, answeredBy: string | null): Promise<void> {
  await db.query(`UPDATE prompts SET status = 'answered', answer = $2::jsonb, answered_by = $3, answered_at = now() WHERE id = $1`, [id, JSON.stringify(value), answeredBy]);
}

/** SQL over a parked job `j`: it has no open prompt left (wakeParked's condition). */
export const NO_OPEN_PROMPT = `NOT EXISTS (SELECT 1 FROM prompts p WHERE p.job_id = j.id AND p.status = 'open')`;

/** Marks up to `limit` open prompts past their expiry (that no other process is taking) expired; their jobs and batches. */
export async function expireDuePrompts(db: Queryable, limit: number): Promise<{ job_id: number; batch_id: string }[]> {
  const { rows } = await db.query<{ job_id: number; batch_id: string }>(
    `WITH due AS (SELECT id FROM prompts WHERE status = 'open' AND expires_at <= now() ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     UPDATE prompts p SET status = 'expired' FROM due WHERE p.id = due.id RETURNING p.job_id, p.batch_id`,
    [limit],
  );
  return rows;
}

/** Locks batches in the lock order (by id). */
export async function lockBatchesById(db: Queryable, ids: string[]): Promise<void> {
  await db.query(`SELECT id FROM batches WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`, [ids]);
}

export interface AskedPromptRow {
  status: PromptStatus;
  answer: unknown;
  default_value: unknown;
  answered_by: string | null;
  answered_at: Date | null;
}

export async function askedPrompt(db: Queryable, jobId: number, key: string): Promise<AskedPromptRow | undefined> {
  const { rows } = await db.query<AskedPromptRow>(`SELECT status, answer, default_value, answered_by, answered_at FROM prompts WHERE job_id = $1 AND key = $2`, [jobId, key]);
  return rows[0];
}

/** Opens a prompt (a second ask of the same key keeps the first); it expires `timeoutMs` after now when given. */
export async function insertPrompt(
  db: Queryable,
  p: { id: string; jobId: number; batchId: string; key: string; question: string; input: string; defaultValue: string | null; timeoutMs: number | null },
): Promise<void> {
  await db.query(
    `INSERT INTO prompts (id, job_id, batch_id, key, question, input, default_value, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $8::float8 / 1000) END)
     ON CONFLICT (job_id, key) DO NOTHING`,
    [p.id, p.jobId, p.batchId, p.key, p.question, p.input, p.defaultValue, p.timeoutMs],
  );
}
