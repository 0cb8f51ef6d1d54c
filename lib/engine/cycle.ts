// One worker cycle in one statement: write the outcomes of the attempts a worker finished, then
// claim its next jobs in the slots they freed. The statement is lib/db/sql/cycle.sql (its stages
// and what each guarantees are commented there); this module turns the worker's outcomes and claim
// request into its parameters and its rows into jobs and batch states.
import type pg from "pg";
import { cycleStatement } from "@/lib/db/sql/cycle";
import { DURATION_BOUNDS_MS, HISTOGRAM_SIZE } from "./metrics";
import type { BatchState } from "./transitions";

export interface ClaimedJob {
  id: number;
  batch_id: string;
  record_id: string;
  position: number;
  attempts: number;
  /** runs of this job lost to a crash so far: with `attempts`, it names this attempt for the fence */
  interruptions: number;
  /** the attempts before the last manual retry: this is retry `attempts - retry_base - 1` of max_retries */
  retry_base: number;
  data: unknown;
  /**
   * claimed ahead (a reservation): not in one of the batch's slots yet. The worker starts it only in
   * a slot of the same batch that one of its own jobs frees, and reports that (`promoted`).
   */
  reserved: boolean;
  /** the batch's chunk_size: the worker runs a batch's claimed jobs in calls of at most this many */
  chunk_size: number;
  /**
   * a chunked batch's job: the call the claim put it in (per batch; the worker runs each call as
   * claimed: the batch's concurrency counts these calls); null for a batch that does not chunk
   */
  call: number | null;
}

export interface Outcome {
  id: number;
  attempts: number;
  /** the claimed job's `interruptions`: a lapsed lease re-runs a job with the same attempt number */
  interruptions: number;
  /**
   * succeeded / failed for good; pending = retry (after delayMs) or release; waiting_input = parked on
   * a prompt; waiting_provider = parked on a provider batch (lib/engine/provider-batches.ts)
   */
  status: "succeeded" | "failed" | "pending" | "waiting_input" | "waiting_provider";
  /** give the attempt back (graceful shutdown): the attempt does not count */
  release?: boolean;
  /**
   * the database still holds this job as reserved (claimed ahead, its start not reported): the
   * outcome moves the batch's `reserved` counter instead of `running`
   */
  reserved?: boolean;
  /** the flow's value as JSON text (a success), or what a failure keeps (FlowError's `result`) */
  result?: string | null;
  error?: { code: string; message: string; retryable: boolean } | null;
  cost: number;
  /** this attempt's log lines as JSON text (an array), appended to the job's */
  logs: string | null;
  delayMs: number;
  durationMs: number;
}

export interface ClaimRequest {
  /** calls wanted (0: only write the outcomes): one job each, up to chunk_size jobs of a chunked batch */
  want: number;
  leaseMs: number;
  /** batches one claim spreads over at most (default 4) */
  maxBatches?: number;
  /**
   * claim nothing unless at least this many jobs can be had (capped at an eighth of the candidate
   * batches' concurrency); default 1
   */
  min?: number;
  /**
   * reservations wanted per batch (batches where this worker runs jobs): granted only while the claim
   * finds no other batch to run (fairness), and up to the batch's concurrency in all workers
   */
  reserve?: ReadonlyMap<string, number>;
}

export interface CycleResult {
  /** outcomes the fence accepted */
  applied: number;
  /** the new state of the batches the outcomes touched (the statement moved their counters) */
  states: BatchState[];
  /** jobs that failed for good here, per batch (a stop policy looks at these) */
  newFailures: Map<string, number>;
  claimed: ClaimedJob[];
  /**
   * the claim found more than one batch to run: reservations held for one of them keep slots from
   * the others, so the worker gives its reservations back (fairness)
   */
  contended: boolean;
}

// bucket thresholds for width_bucket(): ms <= bound[i] <=> ms < bound[i] + 1, so the SQL bucket of a
// duration equals durationBucket() in ./metrics (integer milliseconds)
const HIST_THRESHOLDS = DURATION_BOUNDS_MS.map((b) => b + 1);

/**
 * A batch with work and a free slot that no claim has taken jobs from for this long goes before
 * every other batch, whatever its priority, until it is claimed from: lower priority slows a batch
 * down, it never stops it.
 */
export const STARVED_AFTER_MS = 60_000;

interface MovedBatch extends BatchState {
  /** outcomes the fence accepted */
  outcomes: number;
  new_failures: number;
}

const finite = (n: number) => (Number.isFinite(n) ? n : 0);

/** The outcomes as the cycle statement's parallel arrays ($3-$11), as array literals. */
interface OutcomeParams {
  ids: string;
  attempts: string;
  interruptions: string;
  statuses: string;
  costs: string;
  durations: string;
  reserved: string;
  /** a JSON array */
  results: string;
  /** a JSON array: per outcome null or {error_code, error_message, error_retryable, logs, delay_ms, release} */
  extras: string;
}

/**
 * The outcomes as the cycle statement's parallel arrays, written directly: `result` and `logs` are
 * JSON text already and go in as they are (no second escaping here), and the extras of an outcome at
 * its defaults are a JSON null.
 */
function outcomeParams(outcomes: readonly Outcome[]): OutcomeParams {
  let ids = "", attempts = "", interruptions = "", statuses = "", costs = "", durations = "", reserved = "", results = "", extras = "";
  for (let k = 0; k < outcomes.length; k++) {
    const o = outcomes[k]!;
    const sep = k ? "," : "";
    ids += sep + finite(o.id);
    attempts += sep + finite(o.attempts);
    interruptions += sep + finite(o.interruptions);
    statuses += sep + o.status;
    costs += sep + finite(o.cost);
    durations += sep + Math.round(finite(o.durationMs));
    reserved += sep + (o.reserved ? "t" : "f");
    results += sep + (o.result ?? "null");
    let x = "";
    if (o.error) x += `,"error_code":${JSON.stringify(o.error.code)},"error_message":${JSON.stringify(o.error.message)},"error_retryable":${o.error.retryable === true}`;
    if (o.logs != null) x += `,"logs":${o.logs}`;
    if (o.delayMs) x += `,"delay_ms":${finite(o.delayMs)}`;
    if (o.release) x += `,"release":true`;
    extras += sep + (x ? `{${x.slice(1)}}` : "null");
  }
  return {
    ids: `{${ids}}`,
    attempts: `{${attempts}}`,
    interruptions: `{${interruptions}}`,
    statuses: `{${statuses}}`,
    costs: `{${costs}}`,
    durations: `{${durations}}`,
    reserved: `{${reserved}}`,
    results: `[${results}]`,
    extras: `[${extras}]`,
  };
}

/**
 * Writes `outcomes` (worker `owner`'s attempts) and the starts of its reservations (`promoted`: job
 * ids), and claims up to `claim.want` jobs for it (plus the reservations it asks for), in one
 * statement, on `client` (inside its transaction) or the pool (then it is its own transaction).
 */
export async function runCycle(
  client: pg.ClientBase | pg.Pool,
  owner: string,
  outcomes: readonly Outcome[],
  claim: ClaimRequest | null,
  promoted: readonly number[] = [],
): Promise<CycleResult> {
  const want = Math.max(0, claim?.want ?? 0);
  const reserve = [...(claim?.reserve ?? [])].filter(([, n]) => n > 0);
  const arrays = outcomeParams(outcomes);
  const rows = await cycleStatement<Omit<ClaimedJob, "id"> & { id: number | string; batches: MovedBatch[] | null; candidates: number | null }>(
    client,
    // in the order of the statement's parameter list (lib/db/sql/cycle.sql)
    [
      owner,
      claim?.leaseMs ?? 0,
      arrays.ids,
      arrays.attempts,
      arrays.interruptions,
      arrays.statuses,
      arrays.costs,
      arrays.durations,
      arrays.reserved,
      arrays.results,
      arrays.extras,
      promoted,
      want,
      // two at least where reservations are asked for: they are granted only when no other batch is found
      want > 0 || reserve.length ? Math.max(reserve.length ? 2 : 1, Math.min(claim?.maxBatches ?? 4, Math.max(want, 1))) : 0,
      Math.max(1, claim?.min ?? 1),
      reserve.map(([b]) => b),
      reserve.map(([, n]) => n),
      STARVED_AFTER_MS,
      HIST_THRESHOLDS,
      HISTOGRAM_SIZE,
    ],
  );
  let batches: MovedBatch[] = [];
  let candidates = 0;
  const jobs: ClaimedJob[] = [];
  for (const r of rows) {
    if (r.batches) {
      batches = r.batches;
      candidates = r.candidates ?? 0;
    }
    // Number(): a bigint arrives as a string from a client whose pg copy lacks lib/db/client's int8
    // parser, and an outcome with a string id would be written for job 0 (fenced, the job stuck)
    else jobs.push({ id: Number(r.id), batch_id: r.batch_id, record_id: r.record_id, position: r.position, attempts: r.attempts, interruptions: r.interruptions, retry_base: r.retry_base ?? 0, data: r.data, reserved: r.reserved === true, chunk_size: r.chunk_size ?? 1, call: r.call ?? null });
  }
  let applied = 0;
  const newFailures = new Map<string, number>();
  for (const b of batches) {
    applied += b.outcomes;
    if (b.new_failures > 0) newFailures.set(b.id, b.new_failures);
  }
  return { applied, states: batches, newFailures, claimed: jobs, contended: candidates > 1 };
}
