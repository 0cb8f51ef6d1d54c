// When this worker does the periodic maintenance (lib/engine/maintenance and friends): every
// `everyMs`, one run at a time, expired leases and prompts, the provider batches due a poll,
// webhooks, and the OpenAI batch sweep;
// every ten minutes also retention, orphaned inline datasets and stopped workers.
import { deliverWebhooks, expireLeases, pruneWorkers, sweepOrphanInlineDatasets, sweepRetention } from "@/lib/engine/maintenance";
import { expirePrompts } from "@/lib/engine/prompts";
import { pollProviderBatches } from "@/lib/engine/provider-batches";
import { sweepOpenAIBatches } from "@/lib/openai/sweep";

const RETENTION_EVERY_MS = 10 * 60_000;

export interface MaintenanceOptions {
  workerId: string;
  everyMs: number;
  log: (line: string) => void;
  /** jobs became runnable (expired leases or prompts) */
  onRunnable: () => void;
}

export class MaintenanceTimer {
  private readonly timer: NodeJS.Timeout;
  private lastRetention = 0;
  private running = false;
  private stopped = false;

  constructor(private readonly o: MaintenanceOptions) {
    this.timer = setInterval(() => void this.run(), o.everyMs);
    void this.run();
  }

  /** No new run starts; one under way finishes. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private async run(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      const expired = await expireLeases(1000, this.o.workerId);
      const prompts = await expirePrompts();
      if (expired || prompts) this.o.onRunnable();
      // provider batches that ended wake their jobs
      if (await pollProviderBatches(20, this.o.log)) this.o.onRunnable();
      await deliverWebhooks();
      await sweepOpenAIBatches();
      if (Date.now() - this.lastRetention > RETENTION_EVERY_MS) {
        this.lastRetention = Date.now();
        const n = await sweepRetention();
        if (n) this.o.log(`retention: deleted ${n} finished batches`);
        const orphans = await sweepOrphanInlineDatasets();
        if (orphans) this.o.log(`removed ${orphans} inline datasets whose batch was never created`);
        await pruneWorkers();
      }
    } catch (err) {
      this.o.log(`maintenance failed: ${(err as Error).message}`);
    } finally {
      this.running = false;
    }
  }
}
