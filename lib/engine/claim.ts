// Claiming runnable jobs: ONE statement per round trip, for several batches and many jobs.
//  - candidate batches are locked FOR UPDATE SKIP LOCKED, so the batch's `running` counter read here is
//    exact and no two claimers can both fill the same free slot: per-batch concurrency holds across
//    any number of worker processes; it also makes this the only claimer of those batches' jobs;
//  - batches are taken by priority, then least recently claimed (round-robin), and the wanted jobs
//    are split evenly between them, so a big batch cannot starve a small one;
//  - per batch, due rows of requeued_jobs (retries, released attempts, woken jobs) come first, then the
//    next ordinals from the batch's claim cursor: no index on job status is needed (so job updates stay
//    HOT), and the scan never walks over jobs already claimed;
//  - the jobs move to running with a lease, the batch counters and cursor move, and the ids are added
//    to the worker's in_flight list (what the lease sweep looks at), all in the same statement.
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
  SELECT id, concurrency - running AS free, dataset_id, priority, last_claimed_at, created_at, claim_cursor, total
  FROM batches
  WHERE status IN ('pending', 'running') AND pending > 0 AND running < concurrency
    AND (max_cost IS NULL OR cost_spent < max_cost)
  ORDER BY priority DESC, last_claimed_at ASC NULLS FIRST, created_at
  LIMIT $2
  FOR UPDATE SKIP LOCKED
),
ranked AS (
  SELECT id, dataset_id, claim_cursor, total, LEAST(free,
           $1::int / count(*) OVER () +
           CASE WHEN row_number() OVER (ORDER BY priority DESC, last_claimed_at ASC NULLS FIRST, created_at)
                     <= $1::int % count(*) OVER () THEN 1 ELSE 0 END) AS n
  FROM cand
),
requeued AS (
  DELETE FROM requeued_jobs q WHERE q.job_id = ANY(ARRAY(
    SELECT x.job_id FROM ranked r CROSS JOIN LATERAL (
      SELECT job_id FROM requeued_jobs WHERE batch_id = r.id AND run_at <= now() ORDER BY run_at LIMIT r.n) x))
  RETURNING q.job_id, q.batch_id
),
span AS (
  SELECT r.id, r.claim_cursor AS lo,
         LEAST(r.total, r.claim_cursor + GREATEST(r.n - (SELECT count(*) FROM requeued q WHERE q.batch_id = r.id), 0))::int AS hi
  FROM ranked r
),
picked AS (
  SELECT job_id AS id FROM requeued
  UNION ALL
  -- ORDER BY + LIMIT in a lateral: always a short walk of the (batch_id, ordinal) index, also under the
  -- prepared statement's generic plan (a plain join was once planned as a scan of all jobs)
  SELECT j.id FROM span s CROSS JOIN LATERAL (
    SELECT id FROM jobs WHERE batch_id = s.id AND ordinal >= s.lo AND ordinal < s.hi
    ORDER BY ordinal LIMIT GREATEST(s.hi - s.lo, 0)) j
),
claimed AS (
  UPDATE jobs j SET status = 'running', attempts = j.attempts + 1, lease_owner = $3,
    lease_expires_at = now() + make_interval(secs => $4::float8 / 1000), started_at = now(), finished_at = NULL
  -- = ANY(ARRAY(...)) keeps this an index lookup by id: a join on the CTE is planned as a scan of all jobs
  WHERE j.id = ANY(ARRAY(SELECT id FROM picked)) AND j.status = 'pending' AND j.run_at <= now()
  RETURNING j.id, j.batch_id, j.record_id, j.position, j.attempts
),
counts AS (SELECT batch_id, count(*)::int AS n FROM claimed GROUP BY batch_id),
touched AS (
  UPDATE batches b SET
    running = b.running + COALESCE(c.n, 0), pending = b.pending - COALESCE(c.n, 0), last_claimed_at = now(),
    claim_cursor = s.hi,
    status = (CASE WHEN b.status = 'pending' AND c.n > 0 THEN 'running' ELSE b.status::text END)::batch_status,
    started_at = CASE WHEN c.n > 0 THEN COALESCE(b.started_at, now()) ELSE b.started_at END,
    updated_at = CASE WHEN c.n > 0 THEN now() ELSE b.updated_at END
  FROM span s LEFT JOIN counts c ON c.batch_id = s.id
  WHERE b.id = s.id
  RETURNING b.id
),
owned AS (
  UPDATE workers SET in_flight = in_flight || ARRAY(SELECT id FROM claimed)
  WHERE id = $3 AND EXISTS (SELECT 1 FROM claimed)
  RETURNING id
) -- data-modifying CTEs always run, referenced or not
SELECT c.id, c.batch_id, c.record_id, c.position, c.attempts,
  (SELECT d.data FROM dataset_records d WHERE d.dataset_id = r.dataset_id AND d.position = c.position) AS data
FROM claimed c JOIN ranked r ON r.id = c.batch_id`;

/** Claims up to `want` jobs for worker `owner` with a lease of `leaseMs` (on `client`: inside its transaction). */
export async function claimJobs(
  owner: string,
  want: number,
  leaseMs: number,
  maxBatches = 4,
  client: pg.ClientBase | pg.Pool = getPool(),
): Promise<ClaimedJob[]> {
  if (want <= 0) return [];
  // a named (prepared) statement: parsed and planned once per connection
  const { rows } = await client.query<ClaimedJob>({ name: "batchboard_claim", text: CLAIM_SQL, values: [want, Math.min(maxBatches, want), owner, leaseMs] });
  return rows;
}
