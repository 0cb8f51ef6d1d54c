// The run settings of the batches this worker runs jobs of (flow, parameters, retries, timeout),
// read once per batch and kept: a batch's first claim starts many jobs at once, and they share one
// read of its row. The settings never change while a batch runs.
import { readBatchRunSettings, type BatchRunSettings } from "@/lib/engine/workers";

const MAX_CACHED = 1000;

export class BatchSettingsCache {
  private readonly cached = new Map<string, BatchRunSettings>();
  private readonly loading = new Map<string, Promise<BatchRunSettings | null>>();

  constructor(private readonly read: (batchId: string) => Promise<BatchRunSettings | null> = readBatchRunSettings) {}

  /** The settings if already read (no promise: the common path of every job). */
  get(batchId: string): BatchRunSettings | undefined {
    return this.cached.get(batchId);
  }

  /** Reads them (once for all the callers waiting); null for a batch that no longer exists. */
  load(batchId: string): Promise<BatchRunSettings | null> {
    let p = this.loading.get(batchId);
    if (!p) {
      p = this.readAndKeep(batchId).finally(() => this.loading.delete(batchId));
      this.loading.set(batchId, p);
    }
    return p;
  }

  private async readAndKeep(batchId: string): Promise<BatchRunSettings | null> {
    const settings = await this.read(batchId);
    if (!settings) return null;
    if (this.cached.size > MAX_CACHED) this.cached.clear();
    this.cached.set(batchId, settings);
    return settings;
  }
}
