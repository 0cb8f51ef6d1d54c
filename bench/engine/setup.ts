// Prepares our engine's runs: migrates the database and creates the batches (not timed) through the
// engine's own createBatch, so the worker children find every job pending when they start.
import { childConfig, childMain, round } from "../lib/child";

interface Config {
  url: string;
  /** jobs per batch, one entry per batch */
  batches: number[];
  concurrency: number;
  /** create from this dataset (id or name) instead of inline records */
  dataset?: string;
  profile?: boolean;
  /** each echo job waits this long (default 0: no-op) */
  delayMs?: number;
}

const cfg = childConfig<Config>();

childMain(
  async () => {},
  async () => {
    const { migrate } = await import("@/lib/db/migrate");
    await migrate(cfg.url, { log: () => {} });
    const { createBatch } = await import("@/lib/engine");
    const { getPool, closeDb } = await import("@/lib/db/client");
    if (cfg.profile) await getPool().query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    const ids: string[] = [];
    const t0 = performance.now();
    for (const [b, count] of cfg.batches.entries()) {
      const batch = await createBatch({
        flow: "echo",
        parameters: { delay_ms: cfg.delayMs ?? 0 },
        name: `bench ${b + 1}`,
        concurrency: cfg.concurrency,
        source: cfg.dataset
          ? { kind: "dataset", dataset: cfg.dataset }
          : {
              kind: "records",
              recordIdField: "id",
              records: Array.from({ length: count }, (_, i) => ({ id: `r${i}`, text: `record ${i} of batch ${b}` })),
            },
      });
      ids.push(batch.id);
    }
    const seconds = (performance.now() - t0) / 1000;
    if (cfg.profile) await getPool().query("SELECT pg_stat_statements_reset()");
    await closeDb();
    return { batchIds: ids, createSeconds: round(seconds, 2) };
  },
);
