// The statements lib/db/sql keeps or hands to Prisma Client, timed both ways in process: each read
// written with Prisma Client and as the SQL, called alternately (so both see the same load) on an
// embedded PostgreSQL seeded with one batch of 2,000 jobs, 3,600 seconds of its metrics, a prompt per
// job and an idempotency key. Prints p50 / p95 ms per variant (docs: bench/results/prisma-data-layer.md).
//   npx tsx bench/data-layer/measure.ts [rounds]
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

const rounds = Number(process.argv[2] ?? 400);
const dir = await mkdtemp(path.join(os.tmpdir(), "batchboard-measure-"));
const { startEmbeddedPostgres } = await import("@/lib/db/embedded");
const server = await startEmbeddedPostgres({ dataDir: dir, database: "measure", settings: { fsync: "off", synchronous_commit: "off" } });
process.env.DATABASE_URL = server.url;
const { migrate } = await import("@/lib/db/migrate");
await migrate(server.url);
const { closeDb, getPool, getPrisma } = await import("@/lib/db/client");
const { createBatch } = await import("@/lib/engine");
const { askedPrompt } = await import("@/lib/db/sql/prompts");
const { batchMetricRows } = await import("@/lib/db/sql/stats");

const pool = getPool();
const prisma = getPrisma();
const batch = await createBatch({ flow: "echo", source: { kind: "records", records: Array.from({ length: 2000 }, (_, i) => ({ id: `r${i}`, n: i })), recordIdField: "id" } });
const { rows: jobs } = await pool.query<{ id: number }>(`SELECT id FROM jobs WHERE batch_id = $1 ORDER BY id`, [batch.id]);
await pool.query(
  `INSERT INTO prompts (id, job_id, batch_id, key, question, input) SELECT 'prm_' || j.id, j.id, j.batch_id, 'ok', 'ok?', '{"type":"boolean"}' FROM jobs j WHERE j.batch_id = $1`,
  [batch.id],
);
await pool.query(
  `INSERT INTO batch_metrics (batch_id, bucket, succeeded, failed, cost) SELECT $1, now() - make_interval(secs => s), 3, 1, 0.01 FROM generate_series(1, 3600) s`,
  [batch.id],
);
await pool.query(`INSERT INTO idempotency_keys (key, scope, request_hash, status, response) VALUES ('k1', 'POST /api/batches', 'h', 201, '{"id":"x"}')`);
// a /v1 batch's row (its created_at is the list's keyset), and 100 running jobs started one ms apart
await pool.query(
  `INSERT INTO openai_batches (batch_id, input_file_id, endpoint, completion_window, expires_at) VALUES ($1, 'file-x', '/v1/chat/completions', '24h', now() + interval '1 day')`,
  [batch.id],
);
await pool.query(
  `UPDATE jobs SET status = 'running', started_at = now() - make_interval(secs => ordinal / 1000.0) WHERE batch_id = $1 AND ordinal < 100`,
  [batch.id],
);

interface Variant {
  name: string;
  run: (i: number) => Promise<unknown>;
}
const pick = (i: number) => jobs[i % jobs.length]!.id;
const pairs: [string, Variant, Variant][] = [
  [
    "a worker's batch settings (readBatchRunSettings)",
    {
      name: "Prisma batch.findUnique",
      run: () =>
        prisma.batch.findUnique({
          where: { id: batch.id },
          select: { flow: true, parameters: true, interactive: true, maxRetries: true, retryBackoffMs: true, timeoutMs: true, rateLimitKey: true },
        }),
    },
    {
      name: "SQL",
      run: () => pool.query(`SELECT flow, parameters, interactive, max_retries, retry_backoff_ms, timeout_ms, rate_limit_key FROM batches WHERE id = $1`, [batch.id]),
    },
  ],
  [
    "an Idempotency-Key replay read",
    { name: "Prisma idempotencyKey.findUnique", run: () => prisma.idempotencyKey.findUnique({ where: { scope_key: { scope: "POST /api/batches", key: "k1" } }, select: { requestHash: true, status: true, response: true } }) },
    { name: "SQL", run: () => pool.query(`SELECT request_hash, status, response FROM idempotency_keys WHERE scope = $1 AND key = $2`, ["POST /api/batches", "k1"]) },
  ],
  [
    "a flow's ask(): the prompt it asked before (findAskedPrompt)",
    {
      name: "Prisma prompt.findUnique",
      run: (i) => prisma.prompt.findUnique({ where: { jobId_key: { jobId: BigInt(pick(i)), key: "ok" } }, select: { status: true, answer: true, defaultValue: true, answeredBy: true, answeredAt: true } }),
    },
    { name: "SQL (lib/db/sql/prompts.ts askedPrompt)", run: (i) => askedPrompt(pool, pick(i), "ok") },
  ],
  [
    "a batch's per-second metrics, 3,600 rows (the chart's read)",
    {
      name: "Prisma batchMetric.findMany",
      run: () => prisma.batchMetric.findMany({ where: { batchId: batch.id }, orderBy: { bucket: "asc" }, select: { bucket: true, succeeded: true, failed: true, cost: true, durationHist: true } }),
    },
    { name: "SQL (lib/db/sql/stats.ts batchMetricRows)", run: () => batchMetricRows(pool, batch.id) },
  ],
  [
    "a /v1 batch's created_at, the list's keyset after it (listV1Batches)",
    { name: "Prisma openAIBatch.findUnique", run: () => prisma.openAIBatch.findUnique({ where: { batchId: batch.id }, select: { createdAt: true } }) },
    { name: "SQL", run: () => pool.query(`SELECT created_at FROM openai_batches WHERE batch_id = $1`, [batch.id]) },
  ],
  [
    "the record a running /batch job started last (getQueueJob)",
    {
      name: "Prisma job.findFirst",
      run: () =>
        prisma.job.findFirst({ where: { batchId: batch.id, status: "running", startedAt: { not: null } }, orderBy: { startedAt: "desc" }, select: { recordId: true } }),
    },
    {
      name: "SQL",
      run: () => pool.query(`SELECT record_id FROM jobs WHERE batch_id = $1 AND status = 'running' AND started_at IS NOT NULL ORDER BY started_at DESC LIMIT 1`, [batch.id]),
    },
  ],
];

const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const fmt = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${q(s, 0.5).toFixed(2)} / ${q(s, 0.95).toFixed(2)}`;
};
console.log(`load ${os.loadavg()[0]!.toFixed(1)}, ${rounds} calls each after 50 warm-up calls, p50 / p95 ms`);
for (const [what, a, b] of pairs) {
  for (let i = 0; i < 50; i++) {
    await a.run(i);
    await b.run(i);
  }
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < rounds; i++) {
    for (const [v, t] of (i % 2 ? [[a, ta], [b, tb]] : [[b, tb], [a, ta]]) as [Variant, number[]][]) {
      const t0 = performance.now();
      await v.run(i);
      t.push(performance.now() - t0);
    }
  }
  console.log(`| ${what} | ${a.name}: ${fmt(ta)} | ${b.name}: ${fmt(tb)} |`);
}
await closeDb();
await server.stop();
await rm(dir, { recursive: true, force: true });
