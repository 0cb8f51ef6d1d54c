// The worker's slots: the calls running now (at most `concurrency`: one attempt each, or a chunk of
// attempts of a chunked batch, ./chunk), the reservations waiting for a slot of their batch, and the
// outbox writing the outcomes. A claimed job runs in a free slot or
// queues as a reservation; an ended attempt hands its slot to its batch's next reservation; each
// outbox write also claims the next jobs in the same statement (lib/engine/complete), so the slots
// its outcomes free are refilled in one round trip.
import { flushOutcomes, type FlushResult, type Outcome } from "@/lib/engine/complete";
import type { ClaimedJob } from "@/lib/engine/claim";
import { notifyBatch } from "@/lib/engine/events";
import { redactSecrets } from "@/lib/flows/secrets";
import { AbortReason, Attempt, handBack, runToOutcome } from "./attempt";
import { BatchSettingsCache } from "./batch-settings";
import { callOf, Chunk, groupIntoChunks, runChunkToOutcomes } from "./chunk";
import { Outbox, type SerialWrites } from "./outbox";
import { Reservations } from "./reservations";
import type { Wake } from "./wake";

export interface SlotsOptions {
  workerId: string;
  concurrency: number;
  leaseMs: number;
  log: (line: string) => void;
  wake: Wake;
  writes: SerialWrites;
}

export class Slots {
  /** every job running here, by id (a chunk's jobs each have their attempt) */
  readonly running = new Map<number, Attempt>();
  /** calls running now: what `concurrency` counts */
  calls = 0;
  readonly reservations = new Reservations();
  readonly outbox: Outbox;
  readonly stats = { processed: 0, failed: 0, running: 0 };
  /** claim no fewer than this many jobs at once (an eighth of the slots) */
  readonly minClaim: number;
  /** slots promised to a claim in flight (the claim loop's, or one an outbox write makes) */
  promisedSlots = 0;
  /** set once by stop: no claim, no start, no hand-over; claimed jobs go back */
  stopping = false;
  private readonly settings = new BatchSettingsCache();
  /** batches whose jobs ran here in chunks (they take no reservations) */
  private readonly chunkedBatches = new Set<string>();

  constructor(private readonly o: SlotsOptions) {
    this.minClaim = Math.ceil(o.concurrency / 8);
    this.outbox = new Outbox({ writes: o.writes, write: (items) => this.writeAndClaim(items), onWritten: () => o.wake.wake(), log: o.log });
  }

  /**
   * Slots a claim may fill: at most `concurrency` flows at once, and at most as many outcomes again
   * waiting to be written. `settling` outcomes are being written by the caller itself and free their
   * place when it commits.
   */
  free(settling = 0): number {
    const { concurrency } = this.o;
    const { calls, outbox } = this;
    return Math.min(concurrency - calls, 2 * concurrency - calls - outbox.length - (outbox.writing - settling)) - this.promisedSlots;
  }

  /** A claim's jobs: a chunked batch's run as calls of at most its chunk_size, the others one by one. */
  startClaimed(jobs: readonly ClaimedJob[]): void {
    if (jobs.length === 0) return;
    const { single, chunks } = groupIntoChunks(jobs);
    for (const j of single) this.start(j);
    for (const c of chunks) {
      if (this.stopping) for (const j of c) this.giveBack(j);
      else this.runChunk(c);
    }
  }

  /**
   * A claimed job: run in its slot, or queued as a reservation. Once the worker is stopping, a claim
   * still on its way back (the loop's, or one made by an outbox write in flight) is given back
   * unstarted instead.
   */
  start(job: ClaimedJob): void {
    if (this.stopping) return this.giveBack(job);
    if (!job.reserved) return this.run(job);
    this.reservations.add(job);
  }

  /** Gives reservations back unstarted: all, or only those with no job of their batch running here (no slot to start in). */
  giveBackReservations(all: boolean): void {
    if (this.reservations.isEmpty) return;
    const busy = new Set<string>();
    if (!all) for (const a of this.running.values()) busy.add(a.job.batch_id);
    for (const j of this.reservations.takeBack(busy)) this.giveBack(j, true);
  }

  /** Aborts the attempts whose jobs are no longer ours, and forgets such reservations (the heartbeat found which). */
  dropLost(checked: readonly number[], held: ReadonlySet<number>): void {
    for (const id of checked) {
      const a = this.running.get(id);
      if (a && !held.has(id)) a.abort(new AbortReason("lost", "the job was cancelled, stopped, or its lease was lost"));
    }
    this.reservations.keepHeld(held);
  }

  private run(job: ClaimedJob): void {
    const a = new Attempt(job);
    this.running.set(job.id, a);
    this.calls++;
    a.done = this.runInSlot(a);
  }

  private runChunk(jobs: ClaimedJob[]): void {
    const c = new Chunk(jobs, this.o.workerId);
    if (this.chunkedBatches.size > 1000) this.chunkedBatches.clear();
    this.chunkedBatches.add(c.batchId);
    for (const a of c.attempts) this.running.set(a.job.id, a);
    this.calls++;
    const done = this.runChunkInSlot(c);
    for (const a of c.attempts) a.done = done;
  }

  private async runChunkInSlot(c: Chunk): Promise<void> {
    try {
      const outcomes = await runChunkToOutcomes(c, this.settings);
      c.attempts.forEach((a, i) => {
        const o = outcomes[i];
        if (o) this.complete(a, o);
      });
    } catch (err) {
      this.o.log(`chunk of ${c.attempts.length} jobs of batch ${c.batchId} crashed the runner: ${redactSecrets((err as Error).message)}`);
    } finally {
      for (const a of c.attempts) this.running.delete(a.job.id);
      this.calls--;
      this.o.wake.wake();
    }
  }

  private async runInSlot(a: Attempt): Promise<void> {
    try {
      const outcome = await runToOutcome(a, this.settings);
      if (outcome) this.complete(a, outcome);
    } catch (err) {
      this.o.log(`job ${a.job.id} crashed the runner: ${redactSecrets((err as Error).message)}`);
    } finally {
      this.running.delete(a.job.id);
      this.calls--;
      // the slot goes to the batch's next reservation here, unless the database already freed it (the
      // job was cancelled or lost) or the worker is stopping
      if (!this.stopping && a.reason?.kind !== "lost") {
        const next = this.reservations.takeNext(a.job.batch_id);
        if (next) this.run(next);
      }
      this.o.wake.wake();
    }
  }

  private complete(a: Attempt, outcome: Outcome): void {
    if (outcome.status === "succeeded") this.stats.processed++;
    else if (outcome.status === "failed") {
      this.stats.processed++;
      this.stats.failed++;
    }
    // not awaited: the slot frees now and the next claim overlaps this write (the batch's own
    // `running` counter still holds the slot until the write commits, so batch concurrency stays exact)
    this.outbox.add(outcome, a.job.batch_id, callOf(a.job));
  }

  /** Gives a claimed job back unstarted: its attempt does not count. */
  private giveBack(j: ClaimedJob, asReservation = j.reserved): void {
    this.outbox.add(handBack(j, asReservation), j.batch_id, callOf(j));
  }

  /**
   * Reservations to ask for with these outcomes: per batch, as many as this worker's jobs of it (those
   * running now and those whose outcomes go in this write) less those already reserved here.
   */
  private reservationsWanted(items: readonly Outcome[]): Map<string, number> | undefined {
    const slotsHeld = new Map<string, number>();
    // a chunked batch takes no reservations (lib/db/sql/cycle.sql)
    for (const a of this.running.values()) if (a.job.chunk_size <= 1) slotsHeld.set(a.job.batch_id, (slotsHeld.get(a.job.batch_id) ?? 0) + 1);
    for (const o of items) {
      const b = this.outbox.batchOf(o.id);
      if (b && o.status !== "waiting_input" && o.status !== "waiting_provider" && !o.release && !this.chunkedBatches.has(b)) slotsHeld.set(b, (slotsHeld.get(b) ?? 0) + 1);
    }
    return this.reservations.wanted(slotsHeld, this.o.concurrency);
  }

  /** The outbox's write: these outcomes, the starts of reservations, and the next claim, in one statement. */
  private async writeAndClaim(items: Outcome[]): Promise<void> {
    const { reservations } = this;
    // the starts of reservations go in the same write as (or before) the outcomes of the jobs whose
    // slots they took; an outcome says whether the database still holds its job as a reservation
    // (a reservation given back unstarted says so itself; a started one whose outcome is here is
    // reported by the outcome alone: one statement must not write a job row twice)
    for (const o of items) o.reserved = o.reserved === true || reservations.startUnreported(o.id);
    const starts = reservations.startsToReport(new Set(items.map((o) => o.id)));
    // claim the next jobs in the same statement: the slots these outcomes free (the batch's
    // `running` counter) are refilled before anyone else waits on them, in one round trip
    const want = this.stopping ? 0 : Math.max(0, this.free(items.length));
    const reserve = this.stopping ? undefined : this.reservationsWanted(items);
    const worth = (want > 0 && (want >= this.minClaim || this.calls === 0)) || reserve !== undefined;
    if (worth) this.promisedSlots += want;
    let res: FlushResult;
    try {
      res = await flushOutcomes(this.o.workerId, items, worth ? { want, leaseMs: this.o.leaseMs, min: this.minClaim, reserve } : null, starts);
    } finally {
      if (worth) this.promisedSlots -= want;
    }
    reservations.startsReported(starts);
    reservations.startsReported(items.map((o) => o.id));
    this.startClaimed(res.claimed);
    for (const s of res.settled) {
      notifyBatch(s.id, s.status);
      // paused, stopped, cancelled or ended: its reservations were taken back with the change
      if (s.status !== "pending" && s.status !== "running") reservations.forget(s.id);
    }
    // stopped by these outcomes (error policy, threshold, budget): its reservations were skipped with it
    for (const b of res.stopped) reservations.forget(b);
    // another batch waits for slots (reservations would keep them on this one for another round),
    // or the worker is stopping: all go back; otherwise those with no slot to start in
    this.giveBackReservations(res.contended || this.stopping);
  }
}
