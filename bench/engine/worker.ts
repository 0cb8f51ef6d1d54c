// One standalone worker process of our engine: startWorker after "go", until every given batch is
// finished. Reports its RSS (sampled from inside every 100 ms) and CPU over that span.
import { childConfig, childMain, mb, pollUntil, ResourceSampler } from "../lib/child";

interface Config {
  url: string;
  batchIds: string[];
  concurrency: number;
  timeoutMs: number;
  /** stop after this long even if the batches are not finished (the memory run), reporting what was done */
  maxMs?: number;
}

const cfg = childConfig<Config>();
let workerModule: typeof import("@/lib/worker/worker");
let db: typeof import("@/lib/db/client");

export interface WorkerChildResult {
  processed: number;
  finished: boolean;
  rssStartMb: number;
  rssPeakMb: number;
  rssEndMb: number;
  cpuSeconds: number;
  heapUsedStartMb: number;
  heapUsedEndMb: number;
  /** after a forced full GC (the memory run starts the child with --expose-gc): what is really retained */
  afterGc: { rssMb: number; heapUsedMb: number } | null;
  rssSamples: { t: number; rssMb: number; heapUsedMb: number }[];
}

childMain<WorkerChildResult>(
  async () => {
    workerModule = await import("@/lib/worker/worker");
    db = await import("@/lib/db/client");
    await db.getPool().query("SELECT 1"); // connect before the clock starts
  },
  async () => {
    const sampler = new ResourceSampler();
    const heapUsedStartMb = mb(process.memoryUsage().heapUsed);
    sampler.begin();
    const worker = await workerModule.startWorker({ mode: "standalone", concurrency: cfg.concurrency, log: () => {} });
    const finished = await pollUntil(
      async () => {
        const { rows } = await db
          .getPool()
          .query<{ n: number }>(
            "SELECT count(*)::int AS n FROM batches WHERE id = ANY($1) AND status NOT IN ('completed', 'failed', 'cancelled')",
            [cfg.batchIds],
          );
        return rows[0]!.n === 0;
      },
      100,
      cfg.maxMs ?? cfg.timeoutMs,
      "the batches to finish",
    ).catch((err: unknown) => {
      if (cfg.maxMs) return false;
      throw err;
    });
    const use = sampler.end();
    const heapUsedEndMb = mb(process.memoryUsage().heapUsed);
    const processed = worker.stats.processed;
    await worker.stop(1000);
    await db.closeDb();
    const gc = (globalThis as { gc?: () => void }).gc;
    let afterGc: WorkerChildResult["afterGc"] = null;
    if (gc) {
      gc();
      const m = process.memoryUsage();
      afterGc = { rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed) };
    }
    // at most ~600 points: enough to draw RSS over the run
    const every = Math.max(1, Math.ceil(sampler.samples.length / 600));
    return { processed, finished, ...use, heapUsedStartMb, heapUsedEndMb, afterGc, rssSamples: sampler.samples.filter((_, i) => i % every === 0) };
  },
);
