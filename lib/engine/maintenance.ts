// Periodic work any worker may do (all of it safe to run from several processes at once):
// expired leases, expired prompts, webhook deliveries, the retention sweep, stale worker rows.
import { createHash, createHmac, randomBytes } from "node:crypto";
import { getConfig } from "@/lib/config";
import { getPrisma } from "@/lib/db/client";
import { networkErrorText, OutboundRefused, outboundRequest } from "@/lib/flows/outbound-client";
import { query, withTx } from "./db";
import { removeBatchLeftovers } from "./delete-batch";
import { notifyBatch } from "./events";
import { applyDeltas, Deltas, settleBatches } from "./transitions";
import type { BatchStatus, JobStatus } from "./types";

/**
 * Jobs whose worker stopped renewing the lease (crashed, kill -9, partitioned) run again. A crash is
 * not the flow's failure: the lost run does not count as an attempt, whatever max_retries says. A
 * job that had started counts an interruption, and fails with `interrupted` once it has been
 * interrupted more than its batch's max_interruptions (a record that crashes its worker every time
 * must not loop forever); a reservation (never reported started) goes back with no count at all.
 * Running jobs are found through their worker: only workers whose own lease ran out are looked at,
 * and only the ids in their in_flight list (no index on job status is needed). A worker sweeping
 * passes its own id as `self`: it is alive, and if its lease lapsed it was only paused (a long GC, a
 * starved CPU); its next heartbeat renews it.
 */
export async function expireLeases(limit = 1000, self: string | null = null): Promise<number> {
  const result = await withTx(async (client) => {
    // the workers whose own lease ran out, locked: a second sweeper skips them
    const lapsed = await client.query<{ id: string }>(
      `SELECT id FROM workers WHERE cardinality(in_flight) > 0 AND (lease_until IS NULL OR lease_until < now())
         AND id IS DISTINCT FROM $1
       ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED`,
      [self],
    );
    if (lapsed.rows.length === 0) return { n: 0, settled: [] };
    const workerIds = lapsed.rows.map((w) => w.id);
    const { rows } = await client.query<{ batch_id: string; status: JobStatus; reserved: boolean }>(
      `WITH due AS (
         SELECT j.id FROM workers w CROSS JOIN LATERAL unnest(w.in_flight) AS f(id) JOIN jobs j ON j.id = f.id
         WHERE w.id = ANY($2::text[]) AND j.status = 'running' AND j.lease_owner = w.id AND j.lease_expires_at < now()
         ORDER BY j.id LIMIT $1 FOR UPDATE OF j SKIP LOCKED),
       lost AS (
         SELECT j.id, j.started_at IS NOT NULL AS started, j.interruptions + 1 > b.max_interruptions AS exhausted,
                j.interruptions + 1 AS n, b.max_interruptions AS bound
         FROM due JOIN jobs j ON j.id = due.id JOIN batches b ON b.id = j.batch_id),
       expired AS (
         UPDATE jobs j SET
           status = (CASE WHEN l.started AND l.exhausted THEN 'failed' ELSE 'pending' END)::job_status,
           attempts = j.attempts - 1,
           interruptions = CASE WHEN l.started THEN l.n ELSE j.interruptions END,
           lease_owner = NULL, lease_expires_at = NULL, run_at = now(),
           error_code = CASE WHEN l.started THEN 'interrupted' ELSE j.error_code END,
           error_message = CASE WHEN NOT l.started THEN j.error_message
             WHEN l.exhausted THEN 'interrupted ' || l.n || ' times: the worker running this record stopped before it finished each time (crash, kill -9, lost connection)'
             ELSE 'the worker running this attempt stopped before it finished (crash, kill -9, lost connection): it runs again' END,
           error_retryable = CASE WHEN l.started THEN NOT l.exhausted ELSE j.error_retryable END,
           finished_at = CASE WHEN l.started AND l.exhausted THEN now() END,
           logs = CASE WHEN l.started THEN COALESCE(j.logs, '[]'::jsonb) || jsonb_build_array(jsonb_build_object(
             'at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'level', 'warn',
             'message', 'interrupted: the worker running this attempt stopped renewing its lease (' ||
               CASE WHEN l.exhausted THEN 'interruption ' || l.n || ', past the ' || l.bound || ' the batch allows: the record fails)'
                    ELSE 'interruption ' || l.n || ' of at most ' || l.bound || ': it runs again)' END))
             ELSE j.logs END
         FROM lost l WHERE j.id = l.id
         RETURNING j.id, j.batch_id, j.status, j.run_at, NOT l.started AS reserved),
       requeue AS (
         INSERT INTO requeued_jobs (job_id, batch_id, run_at)
         SELECT id, batch_id, run_at FROM expired WHERE status = 'pending' ORDER BY id
         ON CONFLICT (job_id) DO UPDATE SET run_at = excluded.run_at)
       SELECT batch_id, status, reserved FROM expired`,
      [limit, workerIds],
    );
    // the lapsed workers keep in their list only what is still running under them with a live lease
    // (claimed after their last heartbeat); the rest (expired above, finished, cancelled) leaves it
    await client.query(
      `UPDATE workers w SET in_flight = ARRAY(
         SELECT f.id FROM unnest(w.in_flight) AS f(id) JOIN jobs j ON j.id = f.id
         WHERE j.status = 'running' AND j.lease_owner = w.id)
       WHERE w.id = ANY($1::text[])`,
      [workerIds],
    );
    if (rows.length === 0) return { n: 0, settled: [] };
    // a job failed here for good finished too: count it in the throughput series like any failure
    const failedBy = new Map<string, number>();
    for (const r of rows) if (r.status === "failed") failedBy.set(r.batch_id, (failedBy.get(r.batch_id) ?? 0) + 1);
    if (failedBy.size) {
      await client.query(
        `INSERT INTO batch_metrics (batch_id, bucket, failed)
         SELECT b, date_trunc('second', now()), n FROM unnest($1::text[], $2::int[]) AS t(b, n) ORDER BY b
         ON CONFLICT (batch_id, bucket) DO UPDATE SET failed = batch_metrics.failed + excluded.failed`,
        [[...failedBy.keys()], [...failedBy.values()]],
      );
    }
    const deltas = new Deltas();
    for (const r of rows) deltas.move(r.batch_id, r.reserved ? "reserved" : "running", r.status);
    const states = await applyDeltas(client, deltas);
    // a started run lost is an interruption (GET /api/metrics counts them per flow)
    const lostBy = new Map<string, number>();
    for (const r of rows) if (!r.reserved) lostBy.set(r.batch_id, (lostBy.get(r.batch_id) ?? 0) + 1);
    if (lostBy.size) {
      await client.query(
        `UPDATE batches b SET interruptions = b.interruptions + t.n FROM unnest($1::text[], $2::int[]) AS t(id, n) WHERE b.id = t.id`,
        [[...lostBy.keys()], [...lostBy.values()]],
      );
    }
    return { n: rows.length, settled: await settleBatches(client, states, deltas.failures()) };
  });
  for (const s of result.settled) notifyBatch(s.id, s.status);
  return result.n;
}

const WEBHOOK_MAX_ATTEMPTS = 8;
const WEBHOOK_TIMEOUT_MS = 10_000;

/** The signing secret: BATCHBOARD_WEBHOOK_SECRET, else one generated once and kept in `settings`. */
export async function getWebhookSecret(): Promise<string> {
  const fromEnv = getConfig().BATCHBOARD_WEBHOOK_SECRET;
  if (fromEnv) return fromEnv;
  const prisma = getPrisma();
  // the first caller's secret stays: a concurrent second insert is skipped, and both read the one kept
  await prisma.setting.createMany({ data: [{ key: "webhook_secret", value: randomBytes(32).toString("hex") }], skipDuplicates: true });
  return (await prisma.setting.findUniqueOrThrow({ where: { key: "webhook_secret" } })).value;
}

export function signWebhook(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

interface WebhookBatchRow {
  id: string;
  name: string | null;
  flow: string;
  status: BatchStatus;
  stop_reason: string | null;
  webhook_url: string;
  webhook_attempts: number;
  total: number;
  pending: number;
  running: number;
  waiting_input: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  skipped: number;
  cost_spent: number;
  max_cost: number | null;
  metadata: unknown;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
}

export function webhookBody(b: WebhookBatchRow): string {
  return JSON.stringify({
    event: "batch.finished",
    batch: {
      id: b.id,
      name: b.name,
      flow: b.flow,
      status: b.status,
      stop_reason: b.stop_reason,
      progress: {
        total: b.total,
        pending: b.pending,
        running: b.running,
        waiting_input: b.waiting_input,
        succeeded: b.succeeded,
        failed: b.failed,
        cancelled: b.cancelled,
        skipped: b.skipped,
      },
      cost: { spent: b.cost_spent, max: b.max_cost },
      metadata: b.metadata,
      created_at: b.created_at.toISOString(),
      started_at: b.started_at?.toISOString() ?? null,
      completed_at: b.completed_at?.toISOString() ?? null,
    },
  });
}

/** Delivers due completion webhooks; failures retry with exponential backoff, up to 8 attempts. */
export async function deliverWebhooks(limit = 10): Promise<number> {
  // claim: push next_at forward so another worker does not deliver the same one meanwhile
  const { rows } = await query<WebhookBatchRow>(
    `UPDATE batches b SET webhook_next_at = now() + interval '60 seconds'
     FROM (SELECT id FROM batches WHERE webhook_state = 'pending' AND webhook_next_at <= now()
           ORDER BY webhook_next_at LIMIT $1 FOR UPDATE SKIP LOCKED) due
     WHERE b.id = due.id
     RETURNING b.*`,
    [limit],
  );
  if (rows.length === 0) return 0;
  const secret = await getWebhookSecret();
  await Promise.all(
    rows.map(async (b) => {
      const body = webhookBody(b);
      const attempt = b.webhook_attempts + 1;
      let error: string | null = null;
      try {
        // the guarded client: private addresses refused unless allowlisted, checked at every connection
        const res = await outboundRequest({
          url: b.webhook_url,
          method: "POST",
          headers: {
            "content-type": "application/json",
            "user-agent": "Batchboard-Webhook/1",
            "x-batchboard-event": "batch.finished",
            "x-batchboard-delivery": createHash("sha256").update(`${b.id}:${attempt}`).digest("hex").slice(0, 16),
            "x-batchboard-signature": signWebhook(secret, body),
          },
          body,
          signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
          ignoreBody: true,
        });
        if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (err instanceof OutboundRefused) error = `refused: ${e.message}`;
        else if (e.name === "AbortError" || e.name === "TimeoutError") error = `no answer within ${WEBHOOK_TIMEOUT_MS} ms`;
        else error = networkErrorText(err);
      }
      if (error === null) {
        await query(
          `UPDATE batches SET webhook_state = 'delivered', webhook_attempts = $2, webhook_delivered_at = now(),
             webhook_next_at = NULL, webhook_last_error = NULL WHERE id = $1 AND webhook_state = 'pending'`,
          [b.id, attempt],
        );
      } else {
        const giveUp = attempt >= WEBHOOK_MAX_ATTEMPTS;
        const backoffMs = Math.min(1000 * 2 ** (attempt - 1), 3_600_000) * (0.75 + Math.random() * 0.5);
        await query(
          `UPDATE batches SET webhook_state = $3, webhook_attempts = $2, webhook_last_error = $4,
             webhook_next_at = CASE WHEN $3 = 'failed' THEN NULL ELSE now() + make_interval(secs => $5::float8 / 1000) END
           WHERE id = $1 AND webhook_state = 'pending'`,
          [b.id, attempt, giveUp ? "failed" : "pending", error.slice(0, 500), backoffMs],
        );
      }
    }),
  );
  return rows.length;
}

/**
 * Deletes finished batches past their keep: their own ttl_seconds after finishing when they have one,
 * else `days` (BATCHBOARD_RETENTION_DAYS; 0 keeps them), with their jobs, prompts, metrics and inline
 * datasets. A few batches per transaction: a million-job batch must not hold one huge transaction.
 */
export async function sweepRetention(days = getConfig().BATCHBOARD_RETENTION_DAYS): Promise<number> {
  let deleted = 0;
  for (;;) {
    const n = await withTx(async (client) => {
      // a batch of a compatible job API leaves its final status behind (the API's all-time counts)
      const { rows } = await client.query<{ id: string; dataset_id: string | null }>(
        `WITH gone AS (
           DELETE FROM batches WHERE id IN (
             SELECT id FROM batches WHERE status IN ('completed', 'failed', 'cancelled')
               AND CASE WHEN ttl_seconds IS NOT NULL THEN completed_at + make_interval(secs => ttl_seconds) <= now()
                        ELSE $1 > 0 AND completed_at < now() - make_interval(days => $1) END
             ORDER BY completed_at LIMIT 5 FOR UPDATE SKIP LOCKED)
           RETURNING id, dataset_id, status),
         kept AS (UPDATE adapter_jobs a SET final_status = gone.status::text FROM gone WHERE a.batch_id = gone.id)
         SELECT id, dataset_id FROM gone`,
        [days],
      );
      const ids = rows.map((r) => r.id);
      await removeBatchLeftovers(client, ids);
      return ids.length;
    });
    deleted += n;
    if (n === 0) return deleted;
  }
}

/**
 * Inline datasets left without their batch: a large inline batch commits its records before its
 * batch (lib/engine/create-batch.ts), so a process that died in between leaves the records behind.
 * Creation takes seconds; an hour's margin never touches one under way.
 */
export async function sweepOrphanInlineDatasets(olderThanMinutes = 60): Promise<number> {
  const { rowCount } = await query(
    `DELETE FROM datasets d WHERE d.kind = 'inline' AND d.created_at < now() - make_interval(mins => $1)
       AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.dataset_id = d.id)`,
    [olderThanMinutes],
  );
  return rowCount ?? 0;
}

/** Worker rows not heard from for a day are history (once the lease sweep has emptied their in_flight list). */
export async function pruneWorkers(): Promise<void> {
  await query(`DELETE FROM workers WHERE heartbeat_at < now() - interval '1 day' AND cardinality(in_flight) = 0`);
}
