-- The batch counters' rule for every transition outside the worker cycle (lib/db/sql/transitions.ts:
-- cancel, stop, pause, retry, bulk actions, the lease sweep, parked jobs woken, reused results); the
-- cycle keeps its own counters stage, measured faster (docs/decisions/cycle-counters-function.md). Both are plain SQL, one expression or
-- one SELECT, not STRICT, and no more volatile than what they call, so PostgreSQL inlines them into
-- the calling statement (no function call per row, nothing planned apart).

-- The counter a job counts in: its status, with running split in two: `running` (started, in one of
-- its batch's slots) and `reserved` (claimed ahead by a worker, its start not reported: started_at
-- NULL). STABLE, not IMMUTABLE: an enum's text (enum_out) is STABLE, and a function declared more
-- stable than its body is not inlined.
CREATE FUNCTION job_counter(status job_status, started boolean) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN status = 'running' AND NOT started THEN 'reserved' ELSE status::text END
$$;

-- What moves of jobs between counters do to their batches' counters, one row per batch in id order
-- (the lock order): a move of `jobs` jobs takes them out of `from_counter` and into `to_counter`
-- (counters as job_counter names them), and adds its `cost` to the batch's cost_spent. new_failures:
-- the jobs that failed for good in these moves, moved into failed from another counter (a stop
-- policy or an error threshold acts on them).
-- One element per move in each array (costs may be NULL: no cost).
CREATE FUNCTION batch_counter_moves(batch_ids text[], from_counters text[], to_counters text[], jobs int[], costs float8[])
RETURNS TABLE (batch_id text, pending int, running int, reserved int, waiting_input int, waiting_provider int,
               succeeded int, failed int, cancelled int, skipped int, cost float8, new_failures int)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT move.batch_id,
         COALESCE(sum(side.jobs) FILTER (WHERE side.counter = 'pending'), 0)::int,
         COALESCE(sum(side.jobs) FILTER (WHERE side.counter = 'running'), 0)::int,
         COALESCE(sum(side.jobs) FILTER (WHERE side.counter = 'reserved'), 0)::int,
         COALESCE(sum(side.jobs) FILTER (WHERE side.counter = 'waiting_input'), 0)::int,
         COALESCE(sum(side.jobs) FILTER (WHERE side.counter = 'waiting_provider'), 0)::int,
         COALESCE(sum(side.jobs) FILTER (WHERE side.counter = 'succeeded'), 0)::int,
         COALESCE(sum(side.jobs) FILTER (WHERE side.counter = 'failed'), 0)::int,
         COALESCE(sum(side.jobs) FILTER (WHERE side.counter = 'cancelled'), 0)::int,
         COALESCE(sum(side.jobs) FILTER (WHERE side.counter = 'skipped'), 0)::int,
         COALESCE(sum(move.cost) FILTER (WHERE side.incoming), 0)::float8,
         COALESCE(sum(side.jobs) FILTER (WHERE side.counter = 'failed' AND side.incoming AND move.from_counter IS DISTINCT FROM 'failed'), 0)::int
  FROM unnest(batch_ids, from_counters, to_counters, jobs, costs) AS move(batch_id, from_counter, to_counter, jobs, cost)
  -- each move counted twice: out of its from counter, into its to counter (a move within one counter
  -- leaves it as it is; its cost still counts)
  CROSS JOIN LATERAL (VALUES (move.from_counter, -move.jobs, false), (move.to_counter, move.jobs, true)) AS side(counter, jobs, incoming)
  GROUP BY move.batch_id
  ORDER BY move.batch_id
$$;
