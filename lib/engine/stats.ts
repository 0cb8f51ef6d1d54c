// The dashboard's overview numbers, from counters and per-second metrics (never a scan of jobs). A
// batch past its own ttl_seconds counts no more, as everywhere else, before the sweep deletes it.
// The sums stay SQL: Prisma cannot filter on column arithmetic (the ttl), FILTER or date_trunc.
import { getConfig } from "@/lib/config";
import { JOB_STATUSES } from "@/lib/contract/statuses";
import { getPrisma } from "@/lib/db/client";
import { query } from "./db";
import { batchExpiredSql } from "./map";
import type { BatchStatus, FlowCounters, JobStatus, Stats, WorkerInfo } from "./types";

export async function getStats(): Promise<Stats> {
  const [jobs, batches, prompts, workers, tput, series] = await Promise.all([
    query<Record<string, number>>(
      `SELECT COALESCE(sum(pending), 0)::int AS pending, COALESCE(sum(running), 0)::int AS running,
              COALESCE(sum(waiting_input), 0)::int AS waiting_input,
              COALESCE(sum(waiting_provider), 0)::int AS waiting_provider, COALESCE(sum(succeeded), 0)::int AS succeeded,
              COALESCE(sum(failed), 0)::int AS failed, COALESCE(sum(cancelled), 0)::int AS cancelled,
              COALESCE(sum(skipped), 0)::int AS skipped,
              COALESCE(sum(pending) FILTER (WHERE status IN ('pending', 'running')), 0)::int AS queue_depth
       FROM batches b WHERE NOT ${batchExpiredSql()}`,
    ),
    query<{ status: BatchStatus; n: number }>(`SELECT status, count(*)::int AS n FROM batches b WHERE NOT ${batchExpiredSql()} GROUP BY status`),
    getPrisma().prompt.count({ where: { status: "open" } }),
    getPrisma().worker.count({ where: { stoppedAt: null, heartbeatAt: { gt: new Date(Date.now() - aliveWindowMs()) } } }),
    query<{ m1: number; m5: number; m60: number }>(
      `SELECT COALESCE(sum(succeeded + failed) FILTER (WHERE bucket > now() - interval '1 minute'), 0)::float8 AS m1,
              COALESCE(sum(succeeded + failed) FILTER (WHERE bucket > now() - interval '5 minutes'), 0)::float8 AS m5,
              COALESCE(sum(succeeded + failed), 0)::float8 AS m60
       FROM batch_metrics WHERE bucket > now() - interval '60 minutes'`,
    ),
    query<{ t: Date; succeeded: number; failed: number }>(
      `SELECT date_trunc('minute', bucket) AS t, sum(succeeded)::int AS succeeded, sum(failed)::int AS failed
       FROM batch_metrics WHERE bucket > now() - interval '60 minutes' GROUP BY 1 ORDER BY 1`,
    ),
  ]);
  const j = jobs.rows[0]!;
  const byStatus: Record<BatchStatus, number> = { pending: 0, running: 0, paused: 0, completed: 0, failed: 0, cancelled: 0 };
  for (const r of batches.rows) byStatus[r.status] = r.n;
  const t = tput.rows[0]!;
  const jobCounts = Object.fromEntries(
    JOB_STATUSES.map((s) => [s, j[s] ?? 0]),
  ) as Record<JobStatus, number>;
  return {
    jobs: jobCounts,
    batches: { ...byStatus, active: byStatus.pending + byStatus.running + byStatus.paused },
    queueDepth: j.queue_depth ?? 0,
    workers: { live: workers },
    openPrompts: prompts,
    throughput: { last1m: t.m1 / 60, last5m: t.m5 / 300, last60m: t.m60 / 3600 },
    series: series.rows,
  };
}

/**
 * The per-flow counters: sums over the batches plus flow_totals, which keeps what left the batches'
 * counters (deleted batches, finishes a manual retry moved back to pending). One statement, one
 * snapshot.
 */
export async function getFlowCounters(): Promise<FlowCounters[]> {
  const { rows } = await query<{
    flow: string;
    succeeded: number;
    failed: number;
    cancelled: number;
    skipped: number;
    attempts: number;
    interruptions: number;
    cost: number;
    duration_sum_ms: number;
    duration_hist: number[] | null;
  }>(
    `WITH counted AS (
       SELECT flow, succeeded, failed, cancelled, skipped, attempts, interruptions, cost_spent AS cost, duration_sum_ms,
              duration_hist::bigint[] AS duration_hist
       FROM batches
       UNION ALL
       SELECT flow, succeeded, failed, cancelled, skipped, attempts, interruptions, cost, duration_sum_ms, duration_hist FROM flow_totals),
     hist AS (
       SELECT flow, array_agg(n ORDER BY slot) AS duration_hist FROM (
         SELECT counted.flow, h.slot, sum(h.n)::float8 AS n
         FROM counted, unnest(counted.duration_hist) WITH ORDINALITY AS h(n, slot) GROUP BY counted.flow, h.slot) slots
       GROUP BY flow)
     SELECT totals.*, hist.duration_hist FROM (
       SELECT flow, sum(succeeded)::float8 AS succeeded, sum(failed)::float8 AS failed, sum(cancelled)::float8 AS cancelled,
              sum(skipped)::float8 AS skipped, sum(attempts)::float8 AS attempts, sum(interruptions)::float8 AS interruptions,
              sum(cost)::float8 AS cost, sum(duration_sum_ms)::float8 AS duration_sum_ms
       FROM counted GROUP BY flow) totals
     LEFT JOIN hist ON hist.flow = totals.flow
     ORDER BY totals.flow`,
  );
  return rows.map((r) => ({
    flow: r.flow,
    finished: { succeeded: r.succeeded, failed: r.failed, cancelled: r.cancelled, skipped: r.skipped },
    attempts: r.attempts,
    interruptions: r.interruptions,
    cost: r.cost,
    durationHist: r.duration_hist ?? [],
    durationSumMs: r.duration_sum_ms,
  }));
}

/** A worker is alive while its heartbeat is within three lease periods. */
function aliveWindowMs(): number {
  return 3 * getConfig().BATCHBOARD_LEASE_MS;
}

export async function listWorkers(): Promise<WorkerInfo[]> {
  const rows = await getPrisma().worker.findMany({
    select: { id: true, host: true, pid: true, mode: true, concurrency: true, startedAt: true, heartbeatAt: true, stoppedAt: true, running: true, processed: true, failed: true },
    orderBy: { startedAt: "desc" },
    take: 200,
  });
  const since = Date.now() - aliveWindowMs();
  return rows.map(({ stoppedAt, ...w }) => {
    const alive = stoppedAt === null && w.heartbeatAt.getTime() > since;
    return { ...w, running: alive ? w.running : 0, processed: Number(w.processed), failed: Number(w.failed), alive };
  });
}
