// One chunks scenario's worker process: migrates its database, creates one `embed` batch against the
// mock (not timed), then after "go" runs one standalone worker until the batch has finished.
import { childConfig, childMain, pollUntil } from "../lib/child";

interface Config {
  url: string;
  mockUrl: string;
  records: number;
  chunkSize: number;
  concurrency: number;
}

const cfg = childConfig<Config>();
let id = "";

childMain(
  async () => {
    const { migrate } = await import("@/lib/db/migrate");
    await migrate(cfg.url, { log: () => {} });
    const { createBatch } = await import("@/lib/engine");
    const batch = await createBatch({
      flow: "embed",
      name: `chunks ${cfg.chunkSize}`,
      parameters: { base_url: cfg.mockUrl, model: "bench-embed" },
      concurrency: cfg.concurrency,
      chunk_size: cfg.chunkSize,
      shuffle: false,
      source: {
        kind: "records",
        recordIdField: "id",
        records: Array.from({ length: cfg.records }, (_, i) => ({ id: `r${i}`, text: `record ${i} to embed` })),
      },
    });
    id = batch.id;
  },
  async () => {
    const { startWorker } = await import("@/lib/worker/worker");
    const { getPool, closeDb } = await import("@/lib/db/client");
    const started = Date.now();
    const worker = await startWorker({ mode: "standalone", concurrency: 16, log: () => {} });
    const done = await pollUntil(
      async () => {
        const { rows } = await getPool().query<{ status: string; succeeded: number; failed: number }>(
          "SELECT status::text, succeeded, failed FROM batches WHERE id = $1",
          [id],
        );
        return ["completed", "failed", "cancelled"].includes(rows[0]!.status) && rows[0]!;
      },
      20,
      10 * 60_000,
      "the batch to finish",
    );
    const seconds = (Date.now() - started) / 1000;
    await worker.stop(5000);
    await closeDb();
    return { seconds, succeeded: done.succeeded, failed: done.failed };
  },
);
