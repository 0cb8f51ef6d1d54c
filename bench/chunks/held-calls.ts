// The setup bench/chunks/heartbeat.ts and bench/chunks/sweep.ts share: one database per shape on
// their embedded PostgreSQL, migrated, a worker row, and a batch whose every slot is held by that
// worker (a chunked batch: `concurrency` calls of chunk_size jobs, one claim per call, as
// bench/chunks/open-calls.ts fills; a plain one: `concurrency` jobs), claimed by the cycle statement
// with no flow run.
import type { ClaimedJob } from "@/lib/engine/claim";
import type { BenchServer } from "../lib/pg";
import type { Shape } from "./args";

export const WORKER = "bench-heartbeat";
export const LEASE_MS = 600_000;

export async function holdCalls(pgs: BenchServer, database: string, shape: Shape): Promise<{ url: string; held: ClaimedJob[] }> {
  const url = await pgs.createDatabase(database);
  const { migrate } = await import("@/lib/db/migrate");
  await migrate(url, { log: () => {} });
  process.env.DATABASE_URL = url;
  process.env.BATCHBOARD_HTTP_ALLOWLIST = "127.0.0.1";
  process.env.BATCHBOARD_MAX_INLINE_RECORDS = "1000000";
  const { getPool } = await import("@/lib/db/client");
  const { createBatch } = await import("@/lib/engine");
  const { claimJobs } = await import("@/lib/engine/claim");
  await getPool().query(`INSERT INTO workers (id, host, pid, mode, lease_until) VALUES ($1, 'bench', 0, 'standalone', now() + interval '1 day')`, [WORKER]);
  const { concurrency, chunkSize } = shape;
  const records = concurrency * chunkSize + chunkSize;
  await createBatch({
    flow: chunkSize > 1 ? "embed" : "echo",
    concurrency,
    ...(chunkSize > 1 ? { chunk_size: chunkSize, parameters: { mode: "provider_batch", model: "bench", base_url: "http://127.0.0.1:9/v1" } } : {}),
    shuffle: false,
    source: { kind: "records", recordIdField: "id", records: Array.from({ length: records }, (_, n) => ({ id: `r${n}`, text: `record ${n}` })) },
  });
  // every slot busy: `concurrency` calls of chunk_size jobs (one claim per call, as open-calls.ts fills)
  const held: ClaimedJob[] = [];
  if (chunkSize > 1) for (let c = 0; c < concurrency; c++) held.push(...(await claimJobs(WORKER, 1, LEASE_MS, 1)));
  else held.push(...(await claimJobs(WORKER, concurrency, LEASE_MS, 1)));
  if (held.length !== concurrency * chunkSize) throw new Error(`claimed ${held.length} jobs, expected ${concurrency * chunkSize}`);
  return { url, held };
}
