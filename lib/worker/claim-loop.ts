// The claim loop: while the worker runs, claims jobs for its free slots in rounds, and otherwise
// waits for a wake-up (NOTIFY of new work, a freed slot, a written outcome) or its poll timer. While
// outcomes are being written it leaves the claiming to that write (the same statement claims).
import { claimJobs, type ClaimedJob } from "@/lib/engine/claim";
import type { Slots } from "./slots";
import type { Wake } from "./wake";

const FIRST_IDLE_MS = 5;

export interface ClaimLoopOptions {
  workerId: string;
  leaseMs: number;
  /** the longest wait between looks for work */
  pollMs: number;
  slots: Slots;
  wake: Wake;
  log: (line: string) => void;
}

/** Runs until `slots.stopping`; settles when the loop has left (no claim of its own in flight). */
export async function runClaimLoop(o: ClaimLoopOptions): Promise<void> {
  const { slots, wake } = o;
  let idle = FIRST_IDLE_MS;
  while (!slots.stopping) {
    const free = slots.free();
    // claim in rounds, not one slot at a time: wait until a useful share of the slots is free.
    // While outcomes are being written, that write claims for us (the same statement, lib/engine/cycle):
    // claiming here too would only find the batch locked and reserve the slots.
    if (
      free <= 0 ||
      slots.outbox.length > 0 ||
      slots.outbox.writing > 0 ||
      (free < slots.minClaim && slots.calls > 0 && idle === FIRST_IDLE_MS)
    ) {
      await wake.wait(o.pollMs);
      continue;
    }
    let claimed: ClaimedJob[] = [];
    slots.promisedSlots += free;
    try {
      claimed = await claimJobs(o.workerId, free, o.leaseMs);
    } catch (err) {
      o.log(`claim failed: ${(err as Error).message}`);
    } finally {
      slots.promisedSlots -= free;
    }
    slots.startClaimed(claimed);
    if (slots.stopping) break;
    if (claimed.length === 0) {
      // nothing runnable (or candidates locked by another claimer): back off up to pollMs
      await wake.wait(idle);
      idle = Math.min(idle * 2, o.pollMs);
    } else {
      idle = FIRST_IDLE_MS;
      if (claimed.length >= free) await wake.wait(o.pollMs);
    }
  }
}
