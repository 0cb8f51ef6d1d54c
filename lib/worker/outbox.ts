// The outbox: outcomes of ended attempts (and claimed jobs given back), buffered and written many per
// statement. A flush runs on the next turn of the event loop: every outcome settled in this turn goes
// in one write, and while a write is in flight the next ones gather behind it, so the batch size
// follows the load by itself, without a timer's fixed delay on every cycle. Writes are serialised
// (SerialWrites, shared with the heartbeat: both touch the same job rows). A failed write keeps its
// outcomes, first in line, and tries again after a backoff; what the write does is the caller's.
import type { Outcome } from "@/lib/engine/complete";

export const FLUSH_MAX = 500;

/** Runs async writes one at a time, in the order they were queued; a failed one does not stop the next. */
export class SerialWrites {
  private chain: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => {});
    return p;
  }

  /** Settles when every write queued so far has. */
  idle(): Promise<unknown> {
    return this.chain;
  }
}

export interface OutboxOptions {
  writes: SerialWrites;
  /** writes these outcomes (and whatever goes with them); throws to keep them for the next try */
  write: (outcomes: Outcome[]) => Promise<void>;
  /** after a successful write: the slots its outcomes held are free */
  onWritten: () => void;
  log: (line: string) => void;
}

export class Outbox {
  private readonly queued: Outcome[] = [];
  /** the batch of each outcome not yet written (an Outcome carries only its job id) */
  private readonly batchOfJob = new Map<number, string>();
  /** job ids of the outcomes queued or being written: their leases are renewed until the write lands */
  readonly unwritten = new Set<number>();
  /** the call of each unwritten outcome of a chunked batch's job (its lease is the call's) */
  private readonly callOfJob = new Map<number, number>();
  /** outcomes in the write in flight */
  writing = 0;
  /** failed writes in a row */
  failures = 0;
  private scheduled = false;

  constructor(private readonly o: OutboxOptions) {}

  /** outcomes waiting for a write */
  get length(): number {
    return this.queued.length;
  }

  /** `call`: the job's call, a chunked batch's (lib/worker/chunk.ts callOf), or null */
  add(outcome: Outcome, batchId: string, call: number | null = null): void {
    this.batchOfJob.set(outcome.id, batchId);
    if (call !== null) this.callOfJob.set(outcome.id, call);
    this.unwritten.add(outcome.id);
    this.queued.push(outcome);
    this.schedule();
  }

  batchOf(jobId: number): string | undefined {
    return this.batchOfJob.get(jobId);
  }

  /** The call of an unwritten outcome's job, if it ran in one. */
  callOf(jobId: number): number | undefined {
    return this.callOfJob.get(jobId);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  /** Writes up to FLUSH_MAX queued outcomes, after the writes already queued. */
  flush(): Promise<void> {
    return this.o.writes.run(async () => {
      if (this.queued.length === 0) return;
      const items = this.queued.splice(0, FLUSH_MAX);
      this.writing += items.length;
      try {
        await this.o.write(items);
        this.failures = 0;
        for (const o of items) {
          this.unwritten.delete(o.id);
          this.batchOfJob.delete(o.id);
          this.callOfJob.delete(o.id);
        }
        this.writing -= items.length;
        this.o.onWritten();
      } catch (err) {
        this.writing -= items.length;
        // keep them; the database may be back in a moment (if not, the leases expire and the fence
        // rejects these late writes: the jobs run again elsewhere)
        this.queued.unshift(...items);
        this.failures++;
        this.o.log(`flush failed (${items.length} outcomes): ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** this.failures, 5000)));
      }
      if (this.queued.length) this.schedule();
    });
  }
}
