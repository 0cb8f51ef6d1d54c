// The worker's slots on their own (lib/worker/slots.ts), over a real database: jobs claimed by hand,
// run by a flow the test lets end one record at a time, and the outbox's writes (the real
// flushOutcomes, watched for what each asks). A slot its job freed is refilled at once by its batch's
// next reservation; reservations are asked for a batch that runs one record per call, never for a
// chunked one; the slots never start more calls than `concurrency`; a stopping worker gives claims back.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { getPool } from "@/lib/db/client";
import { cancelBatch, createBatch, type CreateBatchInput } from "@/lib/engine";
import { claimJobs } from "@/lib/engine/claim";
import type { ClaimRequest } from "@/lib/engine/cycle";
import { registerFlow } from "@/lib/flows/registry";
import { defineFlow } from "@/lib/flows/types";
import { useTestDatabase } from "../helpers/db";
import { expectCountersExact, waitFor } from "../engine/helpers";
import { registerTestFlows } from "../engine/fixtures/flows";

const flush = vi.hoisted(() => ({ calls: [] as { claim: ClaimRequest | null }[] }));
vi.mock("@/lib/engine/complete", async (importOriginal) => {
  const real = await importOriginal<typeof import("@/lib/engine/complete")>();
  return {
    ...real,
    flushOutcomes: (...args: Parameters<typeof real.flushOutcomes>) => {
      flush.calls.push({ claim: args[2] ? { ...args[2], reserve: args[2].reserve && new Map(args[2].reserve) } : null });
      return real.flushOutcomes(...args);
    },
  };
});

const { Slots } = await import("@/lib/worker/slots");
const { AbortReason } = await import("@/lib/worker/attempt");
const { SerialWrites } = await import("@/lib/worker/outbox");
const { Wake } = await import("@/lib/worker/wake");

useTestDatabase();
registerTestFlows();

/** Each record's run ends when the test opens its gate: `open("b_x r1")`. */
const gates = new Map<string, () => void>();
const gate = (key: string) => new Promise<void>((r) => gates.set(key, r));
registerFlow(
  defineFlow({
    name: "t-gate",
    description: "ends when the test says so",
    parameters: z.object({}),
    async run(record, ctx) {
      await gate(`${ctx.batchId} ${record.id}`);
      return { id: record.id };
    },
  }),
);
const open = async (key: string) => {
  await waitFor(`${key} to be running`, async () => gates.has(key));
  gates.get(key)!();
};

const WORKER = "slots-test";

beforeAll(async () => {
  await getPool().query(`INSERT INTO workers (id, host, pid, mode, lease_until) VALUES ($1, 'test', 0, 'standalone', now() + interval '1 hour')`, [WORKER]);
});

let slots: InstanceType<typeof Slots> | undefined;
afterEach(async () => {
  if (slots) {
    // what still runs is handed back, as at a worker's shutdown (t-gate ignores its signal: the attempt ends it)
    slots.stopping = true;
    for (const a of slots.running.values()) a.abort(new AbortReason("shutdown", "the test ended"));
    await Promise.all([...slots.running.values()].map((a) => a.done));
    await waitFor("the outbox to be empty", async () => slots!.outbox.length === 0 && slots!.outbox.writing === 0);
  }
  slots = undefined;
  gates.clear();
  flush.calls = [];
  const { rows } = await getPool().query<{ id: string }>(`SELECT id FROM batches WHERE status IN ('pending', 'running', 'paused')`);
  for (const r of rows) await cancelBatch(r.id);
});

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${i}` }));
const make = (flow: string, n: number, extra: Partial<CreateBatchInput> = {}) =>
  createBatch({ flow, source: { kind: "records", records: records(n), recordIdField: "id" }, shuffle: false, ...extra });

function newSlots(concurrency: number) {
  slots = new Slots({ workerId: WORKER, concurrency, leaseMs: 60_000, log: vi.fn(), wake: new Wake(), writes: new SerialWrites() });
  return slots;
}

const runningRecords = (s: InstanceType<typeof Slots>) => [...s.running.values()].map((a) => a.job.record_id).sort();

describe("the slots", () => {
  it("a slot its job freed goes at once to the batch's next reservation, before any write", async () => {
    const batch = await make("t-gate", 6, { concurrency: 1 });
    const s = newSlots(4);
    s.startClaimed(await claimJobs(WORKER, 4, 60_000));
    expect(runningRecords(s)).toEqual(["r0"]); // the batch's concurrency: one
    // r0's outcome is written with a request for reservations of its batch: r1 runs, r2 is held here
    await open(`${batch.id} r0`);
    await waitFor("a reservation of the batch", async () => !s.reservations.isEmpty);
    expect(runningRecords(s)).toEqual(["r1"]);
    const r1 = [...s.running.values()][0]!;
    const reserved = s.reservations.jobIds();
    expect(reserved).toHaveLength(1);
    await open(`${batch.id} r1`);
    await r1.done;
    // the slot r1 ended in went to the reservation as the attempt ended, not at the next write
    expect([...s.running.keys()]).toEqual(reserved);
    await open(`${batch.id} r2`);
    await waitFor("r2's outcome written", async () => s.outbox.length === 0 && s.outbox.writing === 0 && !s.running.has(reserved[0]!));
    await waitFor("the next job", async () => s.running.size > 0);
    await expectCountersExact(batch.id);
  });

  it("reservations are asked for a batch of one record per call, never for a chunked batch", async () => {
    const chunked = await make("t-chunk", 8, { concurrency: 1, chunk_size: 2, priority: 10 });
    const plain = await make("t-gate", 4, { concurrency: 1 });
    const s = newSlots(4);
    // t-chunk ends its call at once: its outcomes are written, and the claims that follow run in calls
    s.startClaimed(await claimJobs(WORKER, 4, 60_000));
    await waitFor("the chunked batch to end", async () => (await getPool().query(`SELECT status FROM batches WHERE id = $1`, [chunked.id])).rows[0].status === "completed");
    expect(runningRecords(s)).toEqual(["r0"]); // the plain batch's one job, claimed with the chunked one's last calls
    await open(`${plain.id} r0`);
    await waitFor("a reservation of the plain batch", async () => !s.reservations.isEmpty);
    const asked = flush.calls.map((c) => c.claim?.reserve).filter((r) => r !== undefined);
    expect(asked.some((r) => r.has(plain.id))).toBe(true);
    expect(asked.some((r) => r.has(chunked.id))).toBe(false);
    expect(flush.calls.length).toBeGreaterThan(1);
  });

  it("a chunked batch's call still running asks no reservation when another batch's outcome is written", async () => {
    const plain = await make("t-gate", 4, { concurrency: 1, priority: 10 });
    const chunked = await make("t-chunk", 4, { concurrency: 1, chunk_size: 2, parameters: { delay_ms: 60_000 } });
    const s = newSlots(4);
    s.startClaimed(await claimJobs(WORKER, 4, 60_000));
    expect(s.calls).toBe(2); // the plain batch's job, and one call of two records of the chunked one
    await open(`${plain.id} r0`);
    await waitFor("r0's outcome written", async () => flush.calls.length > 0 && s.outbox.writing === 0 && s.outbox.length === 0);
    const reserve = flush.calls[0]!.claim?.reserve;
    expect(reserve?.get(plain.id)).toBe(1);
    expect(reserve?.has(chunked.id)).toBe(false);
  });

  it("offers a claim no more slots than its concurrency leaves: free() counts the calls running", async () => {
    await make("t-gate", 10, { concurrency: 10 });
    const s = newSlots(3);
    expect(s.free()).toBe(3);
    s.startClaimed(await claimJobs(WORKER, s.free(), 60_000));
    expect(s.calls).toBe(3);
    expect(s.free()).toBe(0);
  });

  it("a stopping worker starts nothing it claimed: the jobs go back pending, their attempt not counted", async () => {
    const batch = await make("t-gate", 2, { concurrency: 2 });
    const s = newSlots(2);
    const claimed = await claimJobs(WORKER, 2, 60_000);
    s.stopping = true;
    s.startClaimed(claimed);
    expect(s.running.size).toBe(0);
    await waitFor("the hand-back written", async () => s.outbox.length === 0 && s.outbox.writing === 0 && flush.calls.length > 0);
    const { rows } = await getPool().query(`SELECT status, attempts FROM jobs WHERE batch_id = $1 ORDER BY ordinal`, [batch.id]);
    expect(rows).toEqual([
      { status: "pending", attempts: 0 },
      { status: "pending", attempts: 0 },
    ]);
    await expectCountersExact(batch.id);
  });
});
