// The worker's lifecycle: register, wire the pieces together, stop gracefully. One module, three
// uses: in the Next.js server (in-process), `npm run worker` (standalone), and POST /api/worker/run
// (bounded, for cron). The pieces: ./slots (running attempts, reservations, the outbox that writes
// outcomes and claims in one statement), ./claim-loop, ./heartbeat, ./maintenance-timer, ./wake.
import os from "node:os";
import { getConfig } from "@/lib/config";
import { subscribeEvents } from "@/lib/engine/events";
import { newId } from "@/lib/engine/ids";
import { markWorkerStopped, registerWorker } from "@/lib/engine/workers";
import packageJson from "@/package.json";
import { AbortReason } from "./attempt";
import { runClaimLoop } from "./claim-loop";
import { Heartbeat } from "./heartbeat";
import { MaintenanceTimer } from "./maintenance-timer";
import { SerialWrites } from "./outbox";
import { Slots } from "./slots";
import { Wake } from "./wake";

export type WorkerMode = "in-process" | "standalone" | "route";

export interface WorkerOptions {
  mode: WorkerMode;
  /** jobs this worker runs at once, across batches (default BATCHBOARD_WORKER_CONCURRENCY) */
  concurrency?: number;
  /** lease length (default BATCHBOARD_LEASE_MS); heartbeats renew it every third of it */
  leaseMs?: number;
  log?: (line: string) => void;
  /** how often to look for work when idle and no NOTIFY woke us (default 500 ms) */
  pollMs?: number;
  /** how often to run maintenance: expired leases and prompts, webhooks (default 1000 ms) */
  maintenanceMs?: number;
}

export interface WorkerHandle {
  id: string;
  /** stop claiming; running jobs get `graceMs` to finish, the rest are released (attempt not counted) */
  stop(graceMs?: number): Promise<void>;
  readonly stats: { processed: number; failed: number; running: number };
}

// a stop gives up writing what is left after this many failed writes in a row (database unreachable)
const STOP_FLUSH_TRIES = 5;

export async function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const config = getConfig();
  const id = newId("wrk");
  const concurrency = Math.max(1, options.concurrency ?? config.BATCHBOARD_WORKER_CONCURRENCY);
  const leaseMs = Math.max(200, options.leaseMs ?? config.BATCHBOARD_LEASE_MS);
  const pollMs = options.pollMs ?? 500;
  const log = options.log ?? ((line: string) => console.log(`[worker ${id}] ${line}`));

  await registerWorker({ id, host: os.hostname(), pid: process.pid, mode: options.mode, version: packageJson.version, concurrency, leaseMs });

  const wake = new Wake();
  const writes = new SerialWrites();
  const slots = new Slots({ workerId: id, concurrency, leaseMs, log, wake, writes });
  const { running, reservations, outbox, stats } = slots;

  const loop = runClaimLoop({ workerId: id, leaseMs, pollMs, slots, wake, log });
  const heartbeat = new Heartbeat({ workerId: id, leaseMs, writes, slots, log });

  // NOTIFY: new work wakes the claim loop; a cancel or stop triggers a heartbeat at once
  const unsubscribe = subscribeEvents((e) => {
    if (e.type !== "batch") return;
    if (e.status === "cancelled" || e.status === "failed" || e.status === "completed" || e.status === "paused") {
      // the change took back this batch's reservations (and its running jobs, unless paused): the
      // heartbeat finds which ones, and forgets them
      const mine = reservations.has(e.batchId) || [...running.values()].some((r) => r.job.batch_id === e.batchId);
      if (mine) void heartbeat.beat();
    } else {
      wake.wake();
    }
  });

  const maintenance = new MaintenanceTimer({ workerId: id, everyMs: options.maintenanceMs ?? 1000, log, onRunnable: () => wake.wake() });

  let stopped: Promise<void> | null = null;
  const stop = (graceMs = 10_000): Promise<void> =>
    (stopped ??= (async () => {
      slots.stopping = true;
      maintenance.stop();
      wake.wake();
      await loop;
      // an outbox write in flight may be claiming: once it lands, what it claimed is given back (Slots.start)
      await writes.idle();
      // reservations have not started: they go back at once
      let handedBack = reservations.jobIds().length;
      slots.giveBackReservations(true);
      // jobs still waiting on their rate limit have not started: they go back at once too
      for (const r of running.values()) if (r.waitingOnLimit) r.abort(new AbortReason("shutdown", "worker shutting down"));
      const deadline = Date.now() + graceMs;
      while (running.size > 0 && Date.now() < deadline) {
        await Promise.race([Promise.all([...running.values()].map((r) => r.done)), new Promise((r) => setTimeout(r, 50))]);
      }
      if (running.size > 0) {
        log(`releasing ${running.size} unfinished jobs`);
        handedBack += running.size;
        for (const r of running.values()) r.abort(new AbortReason("shutdown", "worker shutting down"));
        await Promise.all([...running.values()].map((r) => r.done));
      }
      while (outbox.length) {
        await outbox.flush();
        if (outbox.failures > STOP_FLUSH_TRIES) break;
      }
      heartbeat.stop();
      unsubscribe();
      await writes.idle();
      await markWorkerStopped(id, stats).catch(() => {});
      log(
        outbox.length
          ? `stopped: ${outbox.length} outcomes and hand-backs could not be written (database unreachable); their leases will lapse and the jobs run again`
          : `stopped: ${handedBack} jobs handed back unstarted or unfinished, none counted as an attempt`,
      );
    })());

  log(`started (${options.mode}, concurrency ${concurrency}, lease ${leaseMs} ms)`);
  return {
    id,
    stop,
    get stats() {
      return { ...stats, running: running.size };
    },
  };
}

/** Processes for about `ms` (POST /api/worker/run, cron deployments), then stops gracefully. */
export async function runWorkerFor(ms: number): Promise<{ processed: number }> {
  const handle = await startWorker({ mode: "route", log: () => {} });
  await new Promise((r) => setTimeout(r, ms));
  await handle.stop(Math.min(ms, 10_000));
  return { processed: handle.stats.processed };
}
