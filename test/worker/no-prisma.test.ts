// A worker does not use Prisma Client: its first query through it loads Prisma's query engine, which
// doubled a worker process's RSS (108 -> 220 MB) in the engine bench. A worker that runs a batch to
// its end and then runs its maintenance (lease sweep, webhook delivery, the /v1 sweep, retention,
// orphaned datasets, stale workers) never creates the process's Prisma Client (lib/db/client.ts
// keeps it on globalThis once made).
import { afterAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { createBatch, getBatch } from "@/lib/engine";
import { startWorker, type WorkerHandle } from "@/lib/worker/worker";
import { waitFor } from "@/test/support/wait";
import { useTestDatabase } from "../helpers/db";

delete process.env.BATCHBOARD_WEBHOOK_SECRET; // the secret comes from the settings table
useTestDatabase();

const prismaClientMade = () => (globalThis as { __batchboardDb?: { prisma?: unknown } }).__batchboardDb?.prisma !== undefined;

let worker: WorkerHandle | undefined;
afterAll(async () => {
  await worker?.stop(1000);
});

describe("a worker", () => {
  it("runs a batch, delivers its webhook, deletes an expired /v1 input file and sweeps without creating a Prisma Client", async () => {
    expect(prismaClientMade()).toBe(false);
    // a loopback receiver is a private address: the delivery is refused, after the secret was read
    // an uploaded /v1 input file past its expiry: the sweep deletes it with its dataset
    await getPool().query(`INSERT INTO datasets (id, name, record_count) VALUES ('ds_expired', 'expired input', 0)`);
    await getPool().query(
      `INSERT INTO openai_files (id, kind, purpose, filename, expires_at, dataset_id) VALUES ('file-expired', 'input', 'batch', 'in.jsonl', now() - interval '1 hour', 'ds_expired')`,
    );
    const b = await createBatch({ flow: "echo", source: { kind: "records", records: ["a", "b", "c"], recordIdField: "id" }, webhook_url: "http://127.0.0.1:9/hook" });
    worker = await startWorker({ mode: "in-process", concurrency: 2, pollMs: 50, maintenanceMs: 50, log: () => {} });
    await waitFor("the batch to end", async () => (await getBatch(b.id)).status === "completed", 20_000);
    await waitFor("the webhook to be tried", async () => {
      const { rows } = await getPool().query(`SELECT webhook_last_error FROM batches WHERE id = $1`, [b.id]);
      return String(rows[0].webhook_last_error ?? "").includes("private address");
    }, 20_000);
    await waitFor("the expired input file to go", async () => (await getPool().query(`SELECT 1 FROM datasets WHERE id = 'ds_expired'`)).rows.length === 0, 20_000);
    expect((await getPool().query(`SELECT 1 FROM openai_files WHERE id = 'file-expired'`)).rows).toEqual([]);
    const { rows } = await getPool().query(`SELECT count(*)::int AS n FROM settings WHERE key = 'webhook_secret'`);
    expect(rows[0].n).toBe(1);
    expect(prismaClientMade()).toBe(false);
  });
});
