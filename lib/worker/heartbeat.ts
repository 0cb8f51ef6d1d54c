// The heartbeat: every third of the lease, renews the leases of the jobs this worker holds (running,
// reserved, or with an outcome not yet written) and its own, in one statement (lib/engine/workers).
// Jobs found to be no longer ours (cancelled, stopped, expired) are aborted or forgotten. It goes
// through the outbox's SerialWrites: both write the same job rows.
import { renewLeases } from "@/lib/engine/workers";
import type { SerialWrites } from "./outbox";
import type { Slots } from "./slots";

export interface HeartbeatOptions {
  workerId: string;
  leaseMs: number;
  writes: SerialWrites;
  slots: Slots;
  log: (line: string) => void;
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
      const ids = [...new Set([...slots.running.keys(), ...slots.outbox.unwritten])];
      ids.push(...slots.reservations.jobIds());
      try {
        const held = await renewLeases(this.o.workerId, ids, this.o.leaseMs, {
          running: slots.running.size,
          processed: slots.stats.processed,
          failed: slots.stats.failed,
        });
        slots.dropLost(ids, held);
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
