// Reading batches and the batch-level actions: cancel, pause, resume, retry.
import type pg from "pg";
import { isActiveBatch } from "@/lib/contract/statuses";
import { AppError } from "@/lib/errors";
import { query, withTx } from "./db";
import { notifyBatch, notifyPrompts } from "./events";
import { BATCH_SELECT, batchExpiredSql, toBatch, type BatchRow } from "./map";
import { readRateLimitState } from "./rate-limits";
import { applyDeltas, Deltas, finishIfDone, moveBatchJobs } from "./transitions";
import type { Batch, BatchStatus, JobStatus } from "./types";

/**
 * One batch, with its rate. SQL, not Prisma Client: the expiry (by the database's clock) and the rate
 * (the last minute of batch_metrics) are expressions of the one statement; through Prisma Client it
 * took two queries and measured slower under load (bench/results/prisma-data-layer.md).
 */
export async function getBatch(id: string): Promise<Batch> {
  const { rows } = await query<BatchRow>(`SELECT ${BATCH_SELECT} FROM batches b WHERE b.id = $1 AND NOT ${batchExpiredSql()}`, [id]);
  if (!rows[0]) throw new AppError("not_found", `batch ${JSON.stringify(id)} not found`);
  const batch = toBatch(rows[0]);
  if (batch.rateLimitKey) batch.rateLimitState = await readRateLimitState(batch.id, batch.rateLimitKey, !!batch.options.rateLimit?.key);
  return batch;
}

export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Locks the batch row (lock order: batches before jobs) or 404s. */
export async function lockBatch(client: pg.ClientBase, id: string): Promise<BatchRow> {
  const { rows } = await client.query<BatchRow>(`SELECT * FROM batches WHERE id = $1 AND NOT ${batchExpiredSql("batches")} FOR UPDATE`, [id]);
  if (!rows[0]) throw new AppError("not_found", `batch ${JSON.stringify(id)} not found`);
  return rows[0];
}

function conflict(row: BatchRow, action: string): AppError {
  return new AppError("conflict", `cannot ${action}: batch is ${row.status}`, [{ message: `batch is ${row.status}` }]);
}

/**
 * Cancels a batch: pending and waiting jobs cancelled, running ones cancelled too (their workers see
 * it on the next heartbeat or NOTIFY and abort the signal; a late result is rejected by the fence).
 * Claims lock the batch row and check its status, so nothing of it starts once this has committed.
 */
export async function cancelBatch(id: string): Promise<Batch> {
  await withTx(async (client) => {
    const row = await lockBatch(client, id);
    if (!isActiveBatch(row.status)) throw conflict(row, "cancel");
    const deltas = new Deltas();
    await moveBatchJobs(client, id, ["pending", "waiting_input", "waiting_provider", "running", "reserved"], "cancelled", { code: "cancelled", message: "batch cancelled" }, deltas);
    await client.query(`UPDATE prompts SET status = 'cancelled' WHERE batch_id = $1 AND status = 'open'`, [id]);
    await applyDeltas(client, deltas);
    // the share of records processed (run to success or failure) before the cancel
    await client.query(
      `UPDATE batches SET status = 'cancelled', stop_reason = 'cancelled', completed_at = now(), updated_at = now(),
         stop_detail = jsonb_build_object('reason', 'cancelled', 'processed', succeeded + failed, 'total', total),
         webhook_state = CASE WHEN webhook_url IS NOT NULL THEN 'pending' END, webhook_next_at = now()
       WHERE id = $1`,
      [id],
    );
  });
  notifyBatch(id, "cancelled");
  notifyPrompts(id);
  return getBatch(id);
}

export async function pauseBatch(id: string): Promise<Batch> {
  await withTx(async (client) => {
    const row = await lockBatch(client, id);
    if (row.status === "paused") return;
    if (row.status !== "pending" && row.status !== "running") throw conflict(row, "pause");
    await client.query(`UPDATE batches SET status = 'paused', updated_at = now() WHERE id = $1`, [id]);
    await takeBackReservations(client, id);
  });
  notifyBatch(id, "paused");
  return getBatch(id);
}

/**
 * A paused batch starts nothing new: the jobs workers reserved ahead (not started) become pending
 * again, their attempt not counted. They are found through the workers' in_flight lists.
 */
async function takeBackReservations(client: pg.ClientBase, batchId: string): Promise<void> {
  const { rows } = await client.query<{ n: number }>(
    `WITH t AS (
       SELECT j.id FROM workers w CROSS JOIN LATERAL unnest(w.in_flight) AS f(id) JOIN jobs j ON j.id = f.id
       WHERE j.batch_id = $1 AND j.status = 'running' AND j.started_at IS NULL
       ORDER BY j.id FOR UPDATE OF j),
     u AS (
       UPDATE jobs j SET status = 'pending', attempts = j.attempts - 1, lease_owner = NULL, lease_expires_at = NULL, run_at = now()
       FROM t WHERE j.id = t.id AND j.status = 'running' AND j.started_at IS NULL RETURNING j.id, j.run_at),
     requeue AS (
       INSERT INTO requeued_jobs (job_id, batch_id, run_at) SELECT id, $1, run_at FROM u ORDER BY id
       ON CONFLICT (job_id) DO UPDATE SET run_at = excluded.run_at)
     SELECT count(*)::int AS n FROM u`,
    [batchId],
  );
  const n = rows[0]?.n ?? 0;
  if (n > 0) await applyDeltas(client, new Deltas().move(batchId, "reserved", "pending", n));
}

export async function resumeBatch(id: string): Promise<Batch> {
  let status: BatchStatus = "running";
  await withTx(async (client) => {
    const row = await lockBatch(client, id);
    if (row.status === "pending" || row.status === "running") {
      status = row.status;
      return;
    }
    if (row.status !== "paused") throw conflict(row, "resume");
    status = row.started_at ? "running" : "pending";
    await client.query(`UPDATE batches SET status = $2::batch_status, updated_at = now() WHERE id = $1`, [id, status]);
    // running jobs may all have finished while paused: then there is nothing left and it ends now
    const done = await finishIfDone(client, [id]);
    if (done[0]) status = done[0].status;
  });
  notifyBatch(id, status);
  return getBatch(id);
}

const RETRYABLE_STATUSES: JobStatus[] = ["failed", "cancelled", "skipped"];

/**
 * Re-queues jobs of a batch in `statuses`, all of them or those of `jobIds`, and runs the batch again.
 * Attempts keep counting (each run of the flow is one); max_retries and max_interruptions get a fresh
 * allowance (retry_base, interruptions reset).
 */
export async function requeueJobs(
  client: pg.ClientBase,
  batch: BatchRow,
  statuses: JobStatus[],
  jobIds: number[] | null,
): Promise<number> {
  const deltas = new Deltas();
  const { rows } = await client.query<{ old: JobStatus; n: number }>(
    `WITH t AS (SELECT id, status AS old FROM jobs WHERE batch_id = $1 AND status = ANY($2::job_status[])
                  AND ($3::bigint[] IS NULL OR id = ANY($3::bigint[])) ORDER BY id FOR UPDATE),
     u AS (UPDATE jobs j SET status = 'pending', retry_base = j.attempts, interruptions = 0, run_at = now(), result = NULL, error_code = NULL,
             error_message = NULL, error_retryable = NULL, started_at = NULL, finished_at = NULL, duration_ms = NULL,
             lease_owner = NULL, lease_expires_at = NULL
           FROM t WHERE j.id = t.id RETURNING j.id, j.run_at, t.old),
     requeue AS (
       INSERT INTO requeued_jobs (job_id, batch_id, run_at) SELECT id, $1, run_at FROM u ORDER BY id
       ON CONFLICT (job_id) DO UPDATE SET run_at = excluded.run_at)
     SELECT old, count(*)::int AS n FROM u GROUP BY old`,
    [batch.id, statuses, jobIds],
  );
  let n = 0;
  for (const r of rows) {
    deltas.move(batch.id, r.old, "pending", r.n);
    n += r.n;
  }
  if (n === 0) return 0;
  // the finishes these jobs leave the batch's counters with stay counted in the flow's totals
  // (GET /api/metrics: a counter never goes down)
  const left = (s: JobStatus) => rows.find((r) => r.old === s)?.n ?? 0;
  await client.query(
    `INSERT INTO flow_totals AS t (flow, failed, cancelled, skipped) VALUES ($1, $2, $3, $4)
     ON CONFLICT (flow) DO UPDATE SET failed = t.failed + excluded.failed, cancelled = t.cancelled + excluded.cancelled,
       skipped = t.skipped + excluded.skipped`,
    [batch.flow, left("failed"), left("cancelled"), left("skipped")],
  );
  // a cancelled job's prompts were cancelled with it; re-running asks again
  await client.query(
    `DELETE FROM prompts WHERE batch_id = $1 AND status = 'cancelled' AND job_id IN
       (SELECT id FROM jobs WHERE batch_id = $1 AND status = 'pending' AND ($2::bigint[] IS NULL OR id = ANY($2::bigint[])))`,
    [batch.id, jobIds],
  );
  await applyDeltas(client, deltas);
  if (!isActiveBatch(batch.status)) {
    await client.query(
      `UPDATE batches SET status = (CASE WHEN started_at IS NULL THEN 'pending' ELSE 'running' END)::batch_status,
         stop_reason = NULL, stop_detail = NULL, completed_at = NULL, updated_at = now(),
         webhook_state = NULL, webhook_attempts = 0, webhook_next_at = NULL, webhook_last_error = NULL, webhook_delivered_at = NULL
       WHERE id = $1`,
      [batch.id],
    );
  } else if (batch.stop_reason === "budget_exhausted") {
    await client.query(`UPDATE batches SET stop_reason = NULL, stop_detail = NULL WHERE id = $1`, [batch.id]);
  }
  return n;
}

export async function retryBatch(id: string, statuses: JobStatus[] = ["failed"]): Promise<{ batch: Batch; retried: number }> {
  const bad = statuses.filter((s) => !RETRYABLE_STATUSES.includes(s));
  if (bad.length || statuses.length === 0) {
    throw new AppError("validation_failed", "statuses may only name failed, cancelled and skipped", [
      { path: "statuses", message: `one or more of ${RETRYABLE_STATUSES.join(", ")}` },
    ]);
  }
  const retried = await withTx(async (client) => {
    const row = await lockBatch(client, id);
    return requeueJobs(client, row, statuses, null);
  });
  const batch = await getBatch(id);
  if (retried > 0) notifyBatch(id, batch.status);
  return { batch, retried };
}
