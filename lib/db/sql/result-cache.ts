// Reusing results (lib/engine/result-cache.ts): one set-based statement whatever the batch's size —
// DISTINCT ON over md5 of the record data, jsonb equality of parameters and an UPDATE ... FROM —
// and the batch's counters moved in the creating transaction, by the rule the cycle's move by.
import type { Queryable } from "./queryable";

export interface ReuseParams {
  batchId: string;
  flow: string;
  parameters: unknown;
  maxAgeSeconds: number | null;
  answers: boolean;
}

/** Gives each pending job of the batch the newest earlier result for the same record data; how many, and what they cost when made. */
export async function reuseEarlierResults(db: Queryable, o: ReuseParams): Promise<{ jobs: number; saved: number }> {
  // the newest result per record data is a sort of every earlier result: in memory, not on disk
  await db.query("SET LOCAL work_mem = '64MB'");
  // The earlier batches of the same flow and parameters (jsonb equality: key order does not matter);
  // per record data, the newest result made by the flow itself (a reused one carries no cost to save).
  const { rows } = await db.query<{ jobs: number; saved: number }>(
    `WITH sources AS (
       SELECT id, dataset_id FROM batches
       WHERE flow = $2 AND parameters = $3::jsonb AND id <> $1 AND dataset_id IS NOT NULL),
     earlier AS (
       SELECT DISTINCT ON (md5(record.data::text)) md5(record.data::text) AS data_hash, job.result, job.cost,
              COALESCE(job.cached_from, job.batch_id) AS from_batch
       FROM sources
       JOIN jobs job ON job.batch_id = sources.id AND job.status = 'succeeded'
       JOIN dataset_records record ON record.dataset_id = sources.dataset_id AND record.position = job.position
       WHERE ($4::int IS NULL OR job.finished_at >= now() - make_interval(secs => $4::int))
         AND ($5::boolean OR NOT EXISTS (SELECT 1 FROM prompts prompt WHERE prompt.job_id = job.id AND prompt.status = 'answered'))
       ORDER BY md5(record.data::text), job.cached_from IS NULL DESC, job.finished_at DESC),
     reused AS (
       UPDATE jobs job SET status = 'succeeded', result = earlier.result, cost = 0, cached_from = earlier.from_batch,
         finished_at = now(), logs = jsonb_build_array(jsonb_build_object(
           'at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'level', 'info',
           'message', 'reused the result of batch ' || earlier.from_batch || ' (same flow, parameters and record): the flow did not run'))
       FROM batches batch, dataset_records record, earlier
       WHERE batch.id = $1 AND job.batch_id = $1 AND job.status = 'pending'
         AND record.dataset_id = batch.dataset_id AND record.position = job.position
         AND earlier.data_hash = md5(record.data::text)
       RETURNING earlier.cost)
     SELECT count(*)::int AS jobs, COALESCE(sum(cost), 0)::float8 AS saved FROM reused`,
    [o.batchId, o.flow, JSON.stringify(o.parameters ?? {}), o.maxAgeSeconds, o.answers],
  );
  return rows[0]!;
}

/**
 * Counts `jobs` reused results (saving `saved`) on the batch, once its counters moved them from
 * pending to succeeded: started when none is left pending.
 */
export async function countReusedResults(db: Queryable, batchId: string, jobs: number, saved: number): Promise<void> {
  await db.query(
    `UPDATE batches SET cached = cached + $2, cache_saved_cost = cache_saved_cost + $3,
       started_at = CASE WHEN pending = 0 THEN COALESCE(started_at, now()) ELSE started_at END
     WHERE id = $1`,
    [batchId, jobs, saved],
  );
}
