// Periodic work any worker may do (all of it safe to run from several processes at once):
// expired leases, expired prompts, webhook deliveries, the retention sweep, stale worker rows.
import { createHash, createHmac, randomBytes } from "node:crypto";
import { getConfig } from "@/lib/config";
import { getPool } from "@/lib/db/client";
import { countOutOfCalls } from "@/lib/db/sql/calls";
import {
  claimDueWebhooks,
  countFailedNow,
  countInterruptions,
  deleteExpiredBatches,
  deleteGoneWorkers,
  deleteOrphanInlineDatasets,
  expireLapsedLeases,
  lockLapsedWorkers,
  markWebhookDelivered,
  markWebhookFailed,
  pruneInFlight,
  storedWebhookSecret,
  type DueWebhookRow,
} from "@/lib/db/sql/maintenance";
import { networkErrorText, OutboundRefused, outboundRequest } from "@/lib/flows/outbound-client";
import { withTx } from "./db";
import { removeBatchLeftovers } from "./delete-batch";
import { notifyBatch } from "./events";
import { moveCounters, newFailuresOf, settleBatches } from "./transitions";
import type { JobStatus } from "./types";

/**
 * Jobs whose worker stopped renewing the lease (crashed, kill -9, partitioned) run again. A crash is
 * not the flow's failure: the lost run does not count as an attempt, whatever max_retries says. A
 * job that had started counts an interruption, and fails with `interrupted` once it has been
 * interrupted more than its batch's max_interruptions (a record that crashes its worker every time
 * must not loop forever); a reservation (never reported started) goes back with no count at all.
 * Running jobs are found through their worker: only workers whose own lease ran out are looked at,
 * and only the ids in their in_flight list (non-chunked batches) and in their open calls' rows
 * (batch_calls, a chunked batch's), so no index on job status is needed. A worker sweeping
 * passes its own id as `self`: it is alive, and if its lease lapsed it was only paused (a long GC, a
 * starved CPU); its next heartbeat renews it. One transaction takes up to `limit` jobs of in_flight
 * lists, then whole calls whose lease lapsed while the jobs counted stay under `limit` (at least one:
 * a call comes back in one transaction): the count can pass `limit` by less than a call, and be
 * under it while calls remain. Callers that drain loop until it returns 0 (each transaction that
 * returns more took jobs out of running, so that ends); the maintenance timer calls it once a tick.
 */
export async function expireLeases(limit = 1000, self: string | null = null): Promise<number> {
  const result = await withTx(async (client) => {
    // the workers whose own lease ran out, locked: a second sweeper skips them
    const workerIds = await lockLapsedWorkers(client, self);
    if (workerIds.length === 0) return { n: 0, settled: [] };
    const rows = await expireLapsedLeases<JobStatus>(client, workerIds, limit);
    // the lapsed workers keep in their list only what is still running under them with a live lease
    // (claimed after their last heartbeat); the rest (expired above, finished, cancelled) leaves it
    await pruneInFlight(client, workerIds);
    if (rows.length === 0) return { n: 0, settled: [] };
    // a job failed here for good finished too: count it in the throughput series like any failure
    const failedBy = new Map<string, number>();
    for (const r of rows) if (r.status === "failed") failedBy.set(r.batch_id, (failedBy.get(r.batch_id) ?? 0) + 1);
    if (failedBy.size) {
      await countFailedNow(client, [...failedBy.keys()], [...failedBy.values()]);
    }
    const states = await moveCounters(client, rows);
    // out of their calls (a chunked batch's), now that the batch rows are held: the lock order
    await countOutOfCalls(client, rows);
    // a started run lost is an interruption (GET /api/metrics counts them per flow)
    const lostBy = new Map<string, number>();
    for (const r of rows) if (!r.reserved) lostBy.set(r.batch_id, (lostBy.get(r.batch_id) ?? 0) + 1);
    if (lostBy.size) {
      await countInterruptions(client, [...lostBy.keys()], [...lostBy.values()]);
    }
    return { n: rows.length, settled: await settleBatches(client, states, newFailuresOf(states)) };
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
  return storedWebhookSecret(getPool(), randomBytes(32).toString("hex"));
}

export function signWebhook(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export function webhookBody(b: DueWebhookRow): string {
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
  const rows = await claimDueWebhooks(getPool(), limit);
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
        await markWebhookDelivered(getPool(), b.id, attempt);
      } else {
        const giveUp = attempt >= WEBHOOK_MAX_ATTEMPTS;
        const backoffMs = Math.min(1000 * 2 ** (attempt - 1), 3_600_000) * (0.75 + Math.random() * 0.5);
        await markWebhookFailed(getPool(), b.id, attempt, giveUp ? "failed" : "pending", error.slice(0, 500), backoffMs);
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
      const rows = await deleteExpiredBatches(client, days, 5);
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
  return deleteOrphanInlineDatasets(getPool(), olderThanMinutes);
}

/** Worker rows not heard from for a day are history (once the lease sweep has emptied their in_flight list). */
export async function pruneWorkers(): Promise<void> {
  await deleteGoneWorkers(getPool());
}
