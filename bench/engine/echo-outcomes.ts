// The outcomes the database-only cycle loops (cycle-cost.ts, cycle-explain.ts) write for the jobs
// the last cycle claimed: each succeeded, its record data as its result, as echo would answer.
import type { ClaimedJob, Outcome } from "@/lib/engine/cycle";

export function echoOutcomes(claimed: readonly ClaimedJob[]): Outcome[] {
  return claimed.map((j) => ({
    id: j.id,
    attempts: j.attempts,
    interruptions: j.interruptions,
    status: "succeeded" as const,
    result: JSON.stringify(j.data),
    cost: 0,
    logs: null,
    delayMs: 0,
    durationMs: 0,
  }));
}
