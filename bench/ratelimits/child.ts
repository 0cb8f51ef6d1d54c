// One rate-limit scenario's worker process: migrates its database, creates the scenario's `llm`
// batches against the mock provider (not timed), then after "go" runs one standalone worker until
// every batch has finished.
import { childConfig, childMain, pollUntil } from "../lib/child";

export interface RateLimitBatchSpec {
  /** the provider sees it as the system prompt: requests are counted per batch by it */
  tag: string;
  records: number;
  concurrency: number;
  rateLimit?: { requests_per_minute?: number; tokens_per_minute?: number; key?: string };
}

interface Config {
  url: string;
  providerUrl: string;
  batches: RateLimitBatchSpec[];
  workerConcurrency: number;
}

const cfg = childConfig<Config>();
let ids: string[] = [];

childMain(
  async () => {
    const { migrate } = await import("@/lib/db/migrate");
    await migrate(cfg.url, { log: () => {} });
    const { createBatch } = await import("@/lib/engine");
    for (const b of cfg.batches) {
      const batch = await createBatch({
        flow: "llm",
        name: `rate limits ${b.tag}`,
        parameters: { base_url: cfg.providerUrl, model: "bench", system_prompt: b.tag, user_prompt: "{{record.text}}" },
        concurrency: b.concurrency,
        // a request the provider refuses is tried again: every row finishes all its records
        max_retries: 100,
        retry_backoff_ms: 200,
        rate_limit: b.rateLimit ?? null,
        shuffle: false,
        source: {
          kind: "records",
          recordIdField: "id",
          records: Array.from({ length: b.records }, (_, i) => ({ id: `r${i}`, text: `summarise record ${i} of ${b.tag} in one line` })),
        },
      });
      ids.push(batch.id);
    }
  },
  async () => {
    const { startWorker } = await import("@/lib/worker/worker");
    const { getPool, closeDb } = await import("@/lib/db/client");
    const worker = await startWorker({ mode: "standalone", concurrency: cfg.workerConcurrency, log: () => {} });
    await pollUntil(
      async () => {
        const { rows } = await getPool().query<{ n: number }>(
          "SELECT count(*)::int AS n FROM batches WHERE id = ANY($1) AND status NOT IN ('completed', 'failed', 'cancelled')",
          [ids],
        );
        return rows[0]!.n === 0;
      },
      200,
      10 * 60_000,
      "the rate-limited batches to finish",
    );
    await worker.stop(5000);
    const { rows } = await getPool().query<{ failed: number }>(`SELECT sum(failed)::int AS failed FROM batches WHERE id = ANY($1)`, [ids]);
    await closeDb();
    ids = [];
    return { failed: rows[0]!.failed };
  },
);
