// Reservations: jobs claimed ahead of a free slot, queued per batch in claim order. One starts only
// when one of this worker's jobs of the same batch ends: its slot is handed over (the batch's
// `running` counter keeps counting the ended job until its outcome is written, and the start is
// reported in that same write or an earlier one), so a batch's concurrency holds across workers
// without a round trip between one job and the next. The database counts them too (the batch's
// `reserved` column, a claimed job's `reserved` flag); this module is the worker's side of them.
import type { ClaimedJob } from "@/lib/engine/claim";

export class Reservations {
  /** per batch, in claim order; a batch leaves the map when its queue empties */
  private readonly queues = new Map<string, ClaimedJob[]>();
  /** reservations started here whose start the database has not recorded yet (started_at NULL there) */
  private readonly unreportedStarts = new Set<number>();

  add(job: ClaimedJob): void {
    let queue = this.queues.get(job.batch_id);
    if (!queue) this.queues.set(job.batch_id, (queue = []));
    queue.push(job);
  }

  get isEmpty(): boolean {
    return this.queues.size === 0;
  }

  has(batchId: string): boolean {
    return this.queues.has(batchId);
  }

  count(batchId: string): number {
    return this.queues.get(batchId)?.length ?? 0;
  }

  /** every reservation's job id (their leases are renewed with the running jobs') */
  jobIds(): number[] {
    const ids: number[] = [];
    for (const queue of this.queues.values()) for (const j of queue) ids.push(j.id);
    return ids;
  }

  /** The batch's next reservation, taken out to start in a slot one of its jobs freed; its start is unreported until a write carries it. */
  takeNext(batchId: string): ClaimedJob | undefined {
    const queue = this.queues.get(batchId);
    const job = queue?.shift();
    if (!job) return undefined;
    if (queue!.length === 0) this.queues.delete(batchId);
    this.unreportedStarts.add(job.id);
    return job;
  }

  /** Forgets the batch's reservations: the database took them back (paused, stopped, cancelled, ended). */
  forget(batchId: string): void {
    this.queues.delete(batchId);
  }

  /** Forgets those the database no longer holds for this worker (`held`: job ids still ours). */
  keepHeld(held: ReadonlySet<number>): void {
    for (const [b, queue] of this.queues) {
      const kept = queue.filter((j) => held.has(j.id));
      if (kept.length === queue.length) continue;
      if (kept.length) this.queues.set(b, kept);
      else this.queues.delete(b);
    }
  }

  /** Takes out, to give back unstarted, every reservation except those of the batches in `keep`. */
  takeBack(keep: ReadonlySet<string> = new Set()): ClaimedJob[] {
    const out: ClaimedJob[] = [];
    for (const [b, queue] of this.queues) {
      if (keep.has(b)) continue;
      this.queues.delete(b);
      out.push(...queue);
    }
    return out;
  }

  /**
   * How many more to ask for, per batch: as many as this worker holds slots of it (`slotsHeld`),
   * at most `concurrency`, less those already queued here. Undefined when none.
   */
  wanted(slotsHeld: ReadonlyMap<string, number>, concurrency: number): Map<string, number> | undefined {
    let out: Map<string, number> | undefined;
    for (const [b, n] of slotsHeld) {
      const want = Math.min(n, concurrency) - this.count(b);
      if (want > 0) (out ??= new Map()).set(b, want);
    }
    return out;
  }

  startUnreported(jobId: number): boolean {
    return this.unreportedStarts.has(jobId);
  }

  /** Starts to report in a write, except those whose outcome the write carries (one statement writes a job row once). */
  startsToReport(except: ReadonlySet<number>): number[] {
    return [...this.unreportedStarts].filter((id) => !except.has(id));
  }

  startsReported(jobIds: Iterable<number>): void {
    for (const id of jobIds) this.unreportedStarts.delete(id);
  }
}
