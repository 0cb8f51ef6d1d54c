// A worker process's own rows: its registration, its heartbeat (which renews the leases of the jobs
// it holds), its stop, and the read of a batch's run settings it caches. The claim and the outcome
// writes are the cycle (./cycle, ./claim, ./complete).
import { getPool } from "@/lib/db/client";

export interface WorkerRegistration {
  id: string;
  host: string;
  pid: number;
  mode: string;
  version: string;
  concurrency: number;
  leaseMs: number;
}

export interface WorkerCounts {
  running: number;
  processed: number;
  failed: number;
}

/** What a worker needs from a batch to run its jobs. */
export interface BatchRunSettings {
  flow: string;
  parameters: unknown;
  interactive: boolean;
  maxRetries: number;
  retryBackoffMs: number;
  timeoutMs: number | null;
  /** the rate_limits key its jobs wait on before their flow runs (lib/engine/rate-limits.ts); null: none */
  rateLimitKey: string | null;
}

export async function registerWorker(w: WorkerRegistration): Promise<void> {
  await getPool().query(
    `INSERT INTO workers (id, host, pid, mode, version, concurrency, lease_until)
     VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7::float8 / 1000))`,
    [w.id, w.host, w.pid, w.mode, w.version, w.concurrency, w.leaseMs],
  );
}

/**
 * One statement: renews the leases of `jobIds` still held by `workerId`, renews the worker's own
 * lease (the sweep looks at workers past it) with its counts, and drops from its in_flight the ids
 * found to be no longer its own (cancelled, stopped, expired). A claim committing meanwhile only
 * appends to in_flight: it is not lost. Returns the ids still held.
 */
export async function renewLeases(workerId: string, jobIds: readonly number[], leaseMs: number, counts: WorkerCounts): Promise<Set<number>> {
  const { rows } = await getPool().query<{ id: number }>({
    name: "batchboard_heartbeat",
    text: `WITH held AS (
             UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $3::float8 / 1000)
             WHERE id = ANY($1::bigint[]) AND lease_owner = $2 AND status = 'running' RETURNING id),
           me AS (
             UPDATE workers SET heartbeat_at = now(), lease_until = now() + make_interval(secs => $3::float8 / 1000),
               running = $4, processed = $5, failed = $6,
               in_flight = ARRAY(SELECT unnest(in_flight) EXCEPT (SELECT unnest($1::bigint[]) EXCEPT SELECT id FROM held))
             WHERE id = $2)
           SELECT id FROM held`,
    values: [jobIds, workerId, leaseMs, counts.running, counts.processed, counts.failed],
  });
  return new Set(rows.map((r) => Number(r.id)));
}

/**
 * Marks the worker stopped. in_flight is how the lease sweep finds a worker's jobs: any still running
 * under it (a hand-back that could not be written) stays there, to run again once its lease lapses.
 */
export async function markWorkerStopped(workerId: string, counts: Omit<WorkerCounts, "running">): Promise<void> {
  await getPool().query(
    `UPDATE workers SET stopped_at = now(), heartbeat_at = now(), running = 0, processed = $2, failed = $3,
       in_flight = ARRAY(SELECT f.id FROM unnest(in_flight) AS f(id) JOIN jobs j ON j.id = f.id
                         WHERE j.status = 'running' AND j.lease_owner = $1)
     WHERE id = $1`,
    [workerId, counts.processed, counts.failed],
  );
}

export async function readBatchRunSettings(batchId: string): Promise<BatchRunSettings | null> {
  const { rows } = await getPool().query<{
    flow: string;
    parameters: unknown;
    interactive: boolean;
    max_retries: number;
    retry_backoff_ms: number;
    timeout_ms: number | null;
    rate_limit_key: string | null;
  }>(`SELECT flow, parameters, interactive, max_retries, retry_backoff_ms, timeout_ms, rate_limit_key FROM batches WHERE id = $1`, [batchId]);
  const r = rows[0];
  if (!r) return null;
  return {
    flow: r.flow,
    parameters: r.parameters,
    interactive: r.interactive,
    maxRetries: r.max_retries,
    retryBackoffMs: r.retry_backoff_ms,
    timeoutMs: r.timeout_ms,
    rateLimitKey: r.rate_limit_key,
  };
}
