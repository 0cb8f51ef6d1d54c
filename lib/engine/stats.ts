// The dashboard's overview numbers, from counters and per-second metrics (never a scan of jobs).
import { getConfig } from "@/lib/config";
import { JOB_STATUSES } from "@/lib/contract/statuses";
import { query } from "./db";
import type { BatchStatus, JobStatus, Stats, WorkerInfo } from "./types";

export async function getStats(): Promise<Stats> {
  const [jobs, batches, prompts, workers, tput, series] = await Promise.all([
    query<Record<string, number>>(
      `SELECT COALESCE(sum(pending), 0)::int AS pending, COALESCE(sum(running), 0)::int AS running,
              COALESCE(sum(waiting_input), 0)::int AS waiting_input, COALESCE(sum(succeeded), 0)::int AS succeeded,
              COALESCE(sum(failed), 0)::int AS failed, COALESCE(sum(cancelled), 0)::int AS cancelled,
              COALESCE(sum(skipped), 0)::int AS skipped,
              COALESCE(sum(pending) FILTER (WHERE status IN ('pending', 'running')), 0)::int AS queue_depth
       FROM batches`,
    ),
    query<{ status: BatchStatus; n: number }>(`SELECT status, count(*)::int AS n FROM batches GROUP BY status`),
    query<{ n: number }>(`SELECT count(*)::int AS n FROM prompts WHERE status = 'open'`),
    query<{ n: number }>(
      `SELECT count(*)::int AS n FROM workers WHERE stopped_at IS NULL AND heartbeat_at > now() - make_interval(secs => $1::float8 / 1000)`,
      [aliveWindowMs()],
    ),
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
    workers: { live: workers.rows[0]?.n ?? 0 },
    openPrompts: prompts.rows[0]?.n ?? 0,
    throughput: { last1m: t.m1 / 60, last5m: t.m5 / 300, last60m: t.m60 / 3600 },
    series: series.rows,
  };
}

/** A worker is alive while its heartbeat is within three lease periods. */
function aliveWindowMs(): number {
  return 3 * getConfig().BATCHBOARD_LEASE_MS;
}

export async function listWorkers(): Promise<WorkerInfo[]> {
  const { rows } = await query<{
    id: string;
    host: string;
    pid: number;
    mode: string;
    concurrency: number;
    started_at: Date;
    heartbeat_at: Date;
    stopped_at: Date | null;
    running: number;
    processed: number;
    failed: number;
    alive: boolean;
  }>(
    `SELECT *, (stopped_at IS NULL AND heartbeat_at > now() - make_interval(secs => $1::float8 / 1000)) AS alive
     FROM workers ORDER BY started_at DESC LIMIT 200`,
    [aliveWindowMs()],
  );
  return rows.map((r) => ({
    id: r.id,
    host: r.host,
    pid: r.pid,
    mode: r.mode,
    concurrency: r.concurrency,
    startedAt: r.started_at,
    heartbeatAt: r.heartbeat_at,
    running: r.alive ? r.running : 0,
    processed: Number(r.processed),
    failed: Number(r.failed),
    alive: r.alive,
  }));
}
