// The heartbeat: every third of the lease, renews the leases of the jobs this worker holds (running,
// reserved, or with an outcome not yet written) and its own, in one statement (lib/engine/workers).
// A chunked batch's jobs are leased through their calls: the beat sends each call held with how many
// of its jobs are still held here, not their ids, so its cost does not grow with chunk_size. Jobs
// found to be no longer ours (cancelled, stopped, expired; a call gone takes all of its jobs) are
// aborted or forgotten. It goes through the outbox's SerialWrites: both write the same rows.
import { callKey, renewLeases, type HeldCall } from "@/lib/engine/workers";
import { callOf } from "./chunk";
import type { SerialWrites } from "./outbox";
import type { Slots } from "./slots";

export interface HeartbeatOptions {
  workerId: string;
  leaseMs: number;
  writes: SerialWrites;
  slots: Slots;
  log: (line: string) => void;
}

/** What one beat sends: the jobs in no call by id, and the calls held with the ids of their jobs held here. */
export function heldBySlots(slots: Pick<Slots, "running" | "outbox" | "reservations">): { jobIds: number[]; calls: Map<string, HeldCall & { ids: number[] }> } {
  const jobIds: number[] = [];
  const calls = new Map<string, HeldCall & { ids: number[] }>();
  const inCall = (batchId: string, callId: number, id: number) => {
    const key = callKey(batchId, callId);
    const c = calls.get(key);
    if (c) {
      c.ids.push(id);
      c.jobs++;
    } else calls.set(key, { batchId, callId, jobs: 1, ids: [id] });
  };
  for (const [id, a] of slots.running) {
    const call = callOf(a.job);
    if (call === null) jobIds.push(id);
    // an attempt of a call found lost (cancelled alone) stays in the call's slot until the call
    // ends: it is no longer counted among the call's jobs held here
    else if (a.reason?.kind !== "lost") inCall(a.job.batch_id, call, id);
  }
  for (const id of slots.outbox.unwritten) {
    if (slots.running.has(id)) continue;
    const call = slots.outbox.callOf(id);
    const batchId = slots.outbox.batchOf(id);
    if (call === undefined || batchId === undefined) jobIds.push(id);
    else inCall(batchId, call, id);
  }
  jobIds.push(...slots.reservations.jobIds());
  return { jobIds, calls };
}

export class Heartbeat {
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: HeartbeatOptions) {
    this.timer = setInterval(() => void this.beat(), Math.max(100, Math.floor(o.leaseMs / 3)));
  }

  /** A beat now (a cancel or a stop was announced), after the writes already queued. */
  beat(): Promise<void> {
    const { slots } = this.o;
    return this.o.writes.run(async () => {
      const { jobIds, calls } = heldBySlots(slots);
      try {
        const held = await renewLeases(this.o.workerId, jobIds, [...calls.values()].map(({ batchId, callId, jobs }) => ({ batchId, callId, jobs })), this.o.leaseMs, {
          running: slots.running.size,
          processed: slots.stats.processed,
          failed: slots.stats.failed,
        });
        // checked one by one: the jobs in no call, and those of each call not held whole (a call
        // not found at all has none of its jobs in `held.jobs`: all are lost)
        const checked = [...jobIds];
        for (const [key, c] of calls) if (!held.whole.has(key)) checked.push(...c.ids);
        slots.dropLost(checked, held.jobs);
        slots.stats.running = slots.running.size;
      } catch (err) {
        this.o.log(`heartbeat failed: ${(err as Error).message}`);
      }
    });
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
