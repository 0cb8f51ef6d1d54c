// What the worker's heartbeat sends for these held jobs (lib/worker/heartbeat.ts heldBySlots): the
// ids of the jobs in no call, and each call with how many of its jobs are held.
import type { ClaimedJob } from "@/lib/engine/claim";
import type { HeldCall } from "@/lib/db/sql/workers";
import { callOf } from "@/lib/worker/chunk";

export function heartbeatArgs(held: readonly ClaimedJob[]): [number[], HeldCall[]] {
  const ids: number[] = [];
  const calls = new Map<string, HeldCall>();
  for (const j of held) {
    const call = callOf(j);
    if (call === null) {
      ids.push(j.id);
      continue;
    }
    const key = `${j.batch_id} ${call}`;
    const c = calls.get(key);
    if (c) c.jobs++;
    else calls.set(key, { batchId: j.batch_id, callId: call, jobs: 1 });
  }
  return [ids, [...calls.values()]];
}
