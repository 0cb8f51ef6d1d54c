// Writing attempt outcomes: the worker cycle statement (./cycle) writes them, with the batch
// counters, the per-second metrics, the requeue entries and the worker's in_flight list, and may claim
// the next jobs in the same round trip. The batch checks (stop policies, budget, completion) follow
// only when a batch needs one.
import type pg from "pg";
import { getPool } from "@/lib/db/client";
import { retryOnDeadlock } from "@/lib/db/tx";
import { runCycle, type ClaimRequest, type ClaimedJob, type Outcome } from "./cycle";
import { wakeJobs } from "./prompts";
import { wakeProviderJobs } from "./provider-batches";
import { withTx } from "./db";
import { lockBatchStates } from "@/lib/db/sql/transitions";
import { needsSettle, settleBatches, type Settled } from "./transitions";

export type { Outcome } from "./cycle";

export interface FlushResult {
  /** outcomes the fence accepted */
  applied: number;
  settled: Settled[];
  /** jobs claimed in the same round trip (flushOutcomes with a claim request) */
  claimed: ClaimedJob[];
  /** batches these outcomes stopped (error policy, threshold, budget): their reservations were skipped */
  stopped: string[];
  /** the claim found more than one batch to run (./cycle: the worker gives its reservations back) */
  contended: boolean;
}

/**
 * Writes the outcomes (and the reported starts of reservations, `promoted`) inside the caller's
 * transaction, wakes parked jobs whose answer came first, settles batches.
 */
export async function writeOutcomes(client: pg.ClientBase, owner: string, outcomes: Outcome[], promoted: readonly number[] = []): Promise<FlushResult> {
  const { applied, states, newFailures } = await runCycle(client, owner, outcomes, null, promoted);
  if (applied === 0) return { applied: 0, settled: [], claimed: [], stopped: [], contended: false };
  // an answer (a provider's outcome) that arrived before the job parked: run it again at once
  await wakeJobs(client, outcomes.filter((o) => o.status === "waiting_input").map((o) => o.id));
  await wakeProviderJobs(client, outcomes.filter((o) => o.status === "waiting_provider").map((o) => o.id));
  const settled = await settleBatches(client, states, newFailures);
  return { applied, settled, claimed: [], stopped: settled.filter((s) => s.stopped).map((s) => s.id), contended: false };
}

/**
 * The worker's path: the outcomes, and the claim of `claim.want` next jobs if asked, in one statement
 * on the pool (its own transaction); then a transaction for the batch checks only when a batch needs
 * one (it finished, or a stop policy or the budget may apply; the statement claims nothing from such a
 * batch). Parked jobs (on a prompt or a provider batch) take writeOutcomes' transaction (the park
 * and the wake-up check must commit together), and then claim on their own.
 */
export async function flushOutcomes(
  owner: string,
  outcomes: Outcome[],
  claim: ClaimRequest | null = null,
  promoted: readonly number[] = [],
): Promise<FlushResult> {
  if (outcomes.some((o) => o.status === "waiting_input" || o.status === "waiting_provider")) {
    const written = await withTx((client) => writeOutcomes(client, owner, outcomes, promoted));
    const cycle = claim && (claim.want > 0 || claim.reserve?.size) ? await retryOnDeadlock(() => runCycle(getPool(), owner, [], claim)) : null;
    return { ...written, claimed: cycle?.claimed ?? [], contended: cycle?.contended ?? false };
  }
  const { applied, states, newFailures, claimed, contended } = await retryOnDeadlock(() => runCycle(getPool(), owner, outcomes, claim, promoted));
  const settled: Settled[] = states.map((s) => ({ id: s.id, status: s.status }));
  const due = states.filter((s) => needsSettle(s, newFailures)).map((s) => s.id);
  if (due.length === 0) return { applied, settled, claimed, stopped: [], contended };
  const checked = await withTx(async (client) => {
    // the state again, under the batch locks: another writer may have moved it since
    const fresh = await lockBatchStates(client, due);
    return settleBatches(client, fresh, newFailures);
  });
  const byId = new Map(checked.map((c) => [c.id, c.status]));
  const stopped = checked.filter((c) => c.stopped).map((c) => c.id);
  return { applied, settled: settled.map((s) => ({ id: s.id, status: byId.get(s.id) ?? s.status })), claimed, stopped, contended };
}
