// Claiming runnable jobs: ONE statement per round trip, for several batches and many jobs.
//  - candidate batches are locked FOR UPDATE SKIP LOCKED, so the batch's `running` counter read here is
//    exact and no two claimers can both fill the same free slot: per-batch concurrency holds across
//    any number of worker processes;
//  - batches are taken by priority, then least recently claimed (round-robin), and the wanted jobs
//    are split evenly between them, so a big batch cannot starve a small one;
//  - jobs are taken in run order with FOR UPDATE SKIP LOCKED, moved to running with a lease, and the
//    batch counters move in the same statement.
import type pg from "pg";
import { getPool } from "@/lib/db/client";

export interface ClaimedJob {
  id: number;
  batch_id: string;
  record_id: string;
  position: number;
  attempts: number;
  data: unknown;
}

const CLAIM_SQL = `
WITH cand AS (
  SELECT id, concurrency - running AS free, dataset_id, priority, last_claimed_at, created_at
  FROM batches
  WHERE status IN ('pending', 'running') AND pending > 0 AND running < concurrency
    AND (max_cost IS NULL OR cost_spent < max_cost)
  ORDER BY priority DESC, last_claimed_at ASC NULLS FIRST, created_at
  LIMIT $2
  FOR UPDATE SKIP LOCKED
),
ranked AS (
  SELECT id, dataset_id, LEAST(free,
           $1::int / count(*) OVER () +
           CASE WHEN row_number() OVER (ORDER BY priority DESC, last_claimed_at ASC NULLS FIRST, created_at)
                     <= $1::int % count(*) OVER () THEN 1 ELSE 0 END) AS n
  FROM cand
),
picked AS (
  SELECT p.id FROM ranked r CROSS JOIN LATERAL (
    SELECT j.id FROM jobs j
    WHERE j.batch_id = r.id AND j.status = 'pending' AND j.run_at <= now()
    ORDER BY j.ordinal LIMIT r.n
    FOR UPDATE SKIP LOCKED) p
),
claimed AS (
  UPDATE jobs j SET status = 'running', attempts = j.attempts + 1, lease_owner = $3,
    lease_expires_at = now() + make_interval(secs => $4::float8 / 1000), started_at = now(), finished_at = NULL
  -- = ANY(ARRAY(...)) keeps this an index lookup by id: a join on the CTE is planned as a scan of all jobs
  WHERE j.id = ANY(ARRAY(SELECT id FROM picked))
  RETURNING j.id, j.batch_id, j.record_id, j.position, j.attempts
),
counts AS (SELECT batch_id, count(*)::int AS n FROM claimed GROUP BY batch_id),
touched AS (
  UPDATE batches b SET
    running = b.running + COALESCE(c.n, 0), pending = b.pending - COALESCE(c.n, 0), last_claimed_at = now(),
    status = (CASE WHEN b.status = 'pending' AND c.n > 0 THEN 'running' ELSE b.status::text END)::batch_status,
    started_at = CASE WHEN c.n > 0 THEN COALESCE(b.started_at, now()) ELSE b.started_at END,
    updated_at = CASE WHEN c.n > 0 THEN now() ELSE b.updated_at END
  FROM ranked r LEFT JOIN counts c ON c.batch_id = r.id
  WHERE b.id = r.id
  RETURNING b.id
) -- data-modifying CTEs always run, referenced or not
SELECT c.id, c.batch_id, c.record_id, c.position, c.attempts,
  (SELECT d.data FROM dataset_records d WHERE d.dataset_id = r.dataset_id AND d.position = c.position) AS data
FROM claimed c JOIN ranked r ON r.id = c.batch_id`;

/** Claims up to `want` jobs for worker `owner` with a lease of `leaseMs` (on `client`: inside its transaction). */
export async function claimJobs(
  owner: string,
  want: number,
  leaseMs: number,
  maxBatches = 16,
  client: pg.ClientBase | pg.Pool = getPool(),
): Promise<ClaimedJob[]> {
  if (want <= 0) return [];
  const { rows } = await client.query<ClaimedJob>(CLAIM_SQL, [want, Math.min(maxBatches, want), owner, leaseMs]);
  return rows;
}
