// The invariants a fault must not break, read from the engine's own tables after a batch ends:
// nothing lost (one job per record, every job final), nothing doubled (one written result per job:
// the per-second metrics, the batch counters and the per-job cost all agree with the jobs), the
// batch finished, and its counters equal a GROUP BY over its jobs.
import { getPool } from "@/lib/db/client";

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Expectation {
  records: number;
  succeeded: number;
  failed: number;
  /** what a succeeded job's result must be: the record itself (echo), or the chaos flow's { record, attempt } */
  result: "echo" | "chaos" | "any";
  /** cost the flow reports per attempt: a succeeded job that never failed before must cost exactly this */
  costPerAttempt?: number;
  /** record ids that must be exactly the failed ones (the chaos flow's deterministic failures) */
  failedIds?: Set<string>;
  /** every failed job: this error code and this many attempts (timeouts: max_retries + 1) */
  failedCode?: string;
  failedAttempts?: number;
}

const STATUSES = ["pending", "running", "waiting_input", "succeeded", "failed", "cancelled", "skipped"] as const;
const near = (a: number, b: number) => Math.abs(a - b) < 1e-6;

export async function verifyBatch(batchId: string, expect: Expectation): Promise<Check[]> {
  const pool = getPool();
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });

  const b = (await pool.query(`SELECT * FROM batches WHERE id = $1`, [batchId])).rows[0] as Record<string, unknown> & {
    status: string;
    dataset_id: string;
    total: number;
    succeeded: number;
    failed: number;
    cost_spent: number;
    completed_at: Date | null;
  };

  check("batch finished", b.status === "completed" && b.completed_at !== null, `status ${b.status}`);

  const { rows: groups } = await pool.query<{ status: string; n: number }>(
    `SELECT status::text, count(*)::int AS n FROM jobs WHERE batch_id = $1 GROUP BY status`,
    [batchId],
  );
  const truth = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<(typeof STATUSES)[number], number>;
  for (const g of groups) truth[g.status as (typeof STATUSES)[number]] = g.n;
  const off = STATUSES.filter((s) => b[s] !== truth[s]).map(
    (s) => `${s} ${String(b[s])} != ${truth[s]}`,
  );
  const truthTotal = Object.values(truth).reduce((a, n) => a + n, 0);
  if (b.total !== truthTotal) off.push(`total ${b.total} != ${truthTotal}`);
  check("counters = GROUP BY jobs", off.length === 0, off.join(", ") || "all 7 statuses and total equal");

  const resultMismatch =
    expect.result === "echo"
      ? `j.result IS DISTINCT FROM d.data`
      : expect.result === "chaos"
        ? `(j.result->'record' IS DISTINCT FROM d.data OR (j.result->>'attempt')::int IS DISTINCT FROM j.attempts)`
        : `false`;
  const { rows } = await pool.query(
    `SELECT count(*)::int AS jobs,
       count(DISTINCT j.record_id)::int AS distinct_ids,
       (SELECT count(*)::int FROM dataset_records WHERE dataset_id = $2) AS records,
       count(*) FILTER (WHERE d.record_id IS DISTINCT FROM j.record_id)::int AS unmatched,
       count(*) FILTER (WHERE j.status NOT IN ('succeeded', 'failed', 'cancelled', 'skipped'))::int AS unfinished,
       count(*) FILTER (WHERE j.lease_owner IS NOT NULL OR j.lease_expires_at IS NOT NULL)::int AS leased,
       count(*) FILTER (WHERE j.status IN ('succeeded', 'failed') AND j.finished_at IS NULL)::int AS no_finish,
       count(*) FILTER (WHERE j.status = 'succeeded' AND (j.result IS NULL OR j.error_code IS NOT NULL))::int AS bad_succeeded,
       count(*) FILTER (WHERE j.status = 'failed' AND (j.result IS NOT NULL OR j.error_code IS NULL))::int AS bad_failed,
       count(*) FILTER (WHERE j.attempts < 1 OR j.attempts > b.max_retries + 1)::int AS bad_attempts,
       count(*) FILTER (WHERE j.status = 'succeeded' AND ${resultMismatch})::int AS wrong_result,
       count(*) FILTER (WHERE j.status = 'succeeded' AND $3::float8 IS NOT NULL AND j.cost <> $3::float8)::int AS wrong_cost,
       COALESCE(sum(j.cost), 0)::float8 AS job_cost
     FROM jobs j JOIN batches b ON b.id = j.batch_id
     LEFT JOIN dataset_records d ON d.dataset_id = $2 AND d.position = j.position
     WHERE j.batch_id = $1`,
    [batchId, b.dataset_id, expect.costPerAttempt ?? null],
  );
  const r = rows[0] as Record<string, number>;
  check(
    "nothing lost",
    r.jobs === expect.records && r.records === expect.records && r.distinct_ids === expect.records && r.unmatched === 0 && b.total === expect.records,
    `${expect.records} records -> ${r.records} stored, ${r.jobs} jobs (${r.distinct_ids} distinct, ${r.unmatched} not matching their record), total ${b.total}`,
  );
  check(
    "every job final",
    r.unfinished === 0 && r.leased === 0 && r.no_finish === 0,
    `${r.unfinished} not final, ${r.leased} still leased, ${r.no_finish} without finished_at`,
  );
  check(
    "outcomes well-formed",
    r.bad_succeeded === 0 && r.bad_failed === 0 && r.bad_attempts === 0 && r.wrong_result === 0,
    `${r.bad_succeeded} succeeded without result/with error, ${r.bad_failed} failed without error/with result, ` +
      `${r.bad_attempts} attempts outside 1..max_retries+1, ${r.wrong_result} results not from their record and final attempt`,
  );

  const m = (
    await pool.query<{ s: number; f: number; c: number }>(
      `SELECT COALESCE(sum(succeeded), 0)::int AS s, COALESCE(sum(failed), 0)::int AS f, COALESCE(sum(cost), 0)::float8 AS c
       FROM batch_metrics WHERE batch_id = $1`,
      [batchId],
    )
  ).rows[0]!;
  // every failure is in the metrics exactly once, including those the lease sweep decided
  check(
    "nothing doubled",
    m.s === truth.succeeded &&
      truth.succeeded === b.succeeded &&
      m.f === truth.failed &&
      truth.failed === b.failed &&
      r.wrong_cost === 0,
    `succeeded: metrics ${m.s} / jobs ${truth.succeeded} / batch ${b.succeeded}; ` +
      `failed: metrics ${m.f} / jobs ${truth.failed} / batch ${b.failed}` +
      (expect.costPerAttempt !== undefined ? `; ${r.wrong_cost} succeeded jobs with a cost other than one attempt's` : ""),
  );
  check(
    "cost agrees",
    near(r.job_cost!, b.cost_spent) && near(m.c, b.cost_spent),
    `jobs ${r.job_cost} / batch ${b.cost_spent} / metrics ${m.c}`,
  );
  check(
    "expected outcome",
    truth.succeeded === expect.succeeded && truth.failed === expect.failed,
    `succeeded ${truth.succeeded} (want ${expect.succeeded}), failed ${truth.failed} (want ${expect.failed})`,
  );

  if (expect.failedIds) {
    const { rows: failed } = await pool.query<{ record_id: string; why: string }>(
      `SELECT record_id, error_code || ' after ' || attempts || ' attempts' AS why FROM jobs WHERE batch_id = $1 AND status = 'failed'`,
      [batchId],
    );
    const got = new Map(failed.map((f) => [f.record_id, f.why]));
    const missing = [...expect.failedIds].filter((id) => !got.has(id));
    const extra = [...got].filter(([id]) => !expect.failedIds!.has(id));
    check(
      "failed exactly the doomed records",
      missing.length === 0 && extra.length === 0,
      `${missing.length} doomed records not failed, ${extra.length} others failed` +
        (extra.length ? ` (e.g. ${extra.slice(0, 3).map(([id, why]) => `${id}: ${why}`).join(", ")})` : ""),
    );
  }
  if (expect.failedCode !== undefined || expect.failedAttempts !== undefined) {
    const { rows: bad } = await pool.query<{ n: number; sample: string | null }>(
      `SELECT count(*)::int AS n, min(record_id || ': ' || COALESCE(error_code, 'null') || ' after ' || attempts) AS sample
       FROM jobs WHERE batch_id = $1 AND status = 'failed'
         AND (($2::text IS NOT NULL AND error_code IS DISTINCT FROM $2) OR ($3::int IS NOT NULL AND attempts <> $3))`,
      [batchId, expect.failedCode ?? null, expect.failedAttempts ?? null],
    );
    check(
      "failures carry their cause",
      bad[0]!.n === 0,
      `${bad[0]!.n} failed jobs without error ${expect.failedCode ?? "-"} after ${expect.failedAttempts ?? "-"} attempts${bad[0]!.sample ? ` (e.g. ${bad[0]!.sample})` : ""}`,
    );
  }
  return checks;
}
