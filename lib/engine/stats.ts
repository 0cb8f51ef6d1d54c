// The dashboard's overview numbers, from counters and per-second metrics (never a scan of jobs). A
// batch past its own ttl_seconds counts no more, as everywhere else, before the sweep deletes it.
// The sums stay SQL: Prisma cannot filter on column arithmetic (the ttl), FILTER or date_trunc.
import { getConfig } from "@/lib/config";
import { JOB_STATUSES } from "@/lib/contract/statuses";
import { getPool, getPrisma } from "@/lib/db/client";
import { batchesByStatus, finishedLastHour, finishedPerMinute, flowCounters, jobSums } from "@/lib/db/sql/stats";
import type { BatchStatus, FlowCounters, JobStatus, Stats, WorkerInfo } from "./types";

export async function getStats(): Promise<Stats> {
  const pool = getPool();
  const [j, batches, prompts, workers, t, series] = await Promise.all([
    jobSums(pool),
    batchesByStatus(pool),
    getPrisma().prompt.count({ where: { status: "open" } }),
    getPrisma().worker.count({ where: { stoppedAt: null, heartbeatAt: { gt: new Date(Date.now() - aliveWindowMs()) } } }),
    finishedLastHour(pool),
    finishedPerMinute(pool),
  ]);
  const byStatus: Record<BatchStatus, number> = { pending: 0, running: 0, paused: 0, completed: 0, failed: 0, cancelled: 0 };
  for (const r of batches) byStatus[r.status] = r.n;
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
    series,
  };
}

/**
 * The per-flow counters: sums over the batches plus flow_totals, which keeps what left the batches'
 * counters (deleted batches, finishes a manual retry moved back to pending). One statement, one
 * snapshot.
 */
export async function getFlowCounters(): Promise<FlowCounters[]> {
  const rows = await flowCounters(getPool());
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
