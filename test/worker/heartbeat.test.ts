// The heartbeat: every third of the lease it renews, in one write, the leases of every job this
// worker holds (running, reserved, or with an outcome not yet written), each once, with its counts;
// a chunked batch's jobs through their calls (each call once, with how many of its jobs are held
// here: no job id); what came back not held is handed to the slots to drop; it waits behind the
// outbox's writes; a failed beat is logged, never thrown; stop() ends the beats.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Slots } from "@/lib/worker/slots";

type StillHeld = { jobs: Set<number>; whole: Set<string> };
const renewLeases = vi.hoisted(() => vi.fn(async (..._args: unknown[]): Promise<StillHeld> => ({ jobs: new Set(), whole: new Set() })));
vi.mock("@/lib/engine/workers", () => ({ renewLeases, callKey: (b: string, c: number) => `${b} ${c}` }));
const held = (jobs: number[], whole: string[] = []): StillHeld => ({ jobs: new Set(jobs), whole: new Set(whole) });

const { Heartbeat } = await import("@/lib/worker/heartbeat");
const { SerialWrites } = await import("@/lib/worker/outbox");

type Job = { id: number; batch_id: string; chunk_size: number; call: number | null; reserved: boolean };
const single = (id: number): Job => ({ id, batch_id: "b_plain", chunk_size: 1, call: null, reserved: false });
const inCall = (id: number, call: number, batch = "b_chunk"): Job => ({ id, batch_id: batch, chunk_size: 10, call, reserved: false });

/**
 * The parts of Slots a heartbeat reads: running attempts (ids of jobs in no call, or jobs), unwritten
 * outcomes (ids, or [id, batch, call] for a call's job), reservations, counts.
 */
function fakeSlots(o: { running: (number | Job)[]; unwritten: (number | [number, string, number])[]; reserved: number[]; lost?: number[] }) {
  const running = o.running.map((r) => (typeof r === "number" ? single(r) : r));
  const unwritten = o.unwritten.map((u) => (typeof u === "number" ? { id: u } : { id: u[0], batch: u[1], call: u[2] }));
  return {
    running: new Map(running.map((j) => [j.id, { job: j, reason: o.lost?.includes(j.id) ? { kind: "lost" } : null }])),
    outbox: {
      unwritten: new Set(unwritten.map((u) => u.id)),
      callOf: (id: number) => unwritten.find((u) => u.id === id)?.call,
      batchOf: (id: number) => unwritten.find((u) => u.id === id)?.batch ?? "b_plain",
    },
    reservations: { jobIds: () => [...o.reserved] },
    stats: { processed: 7, failed: 2, running: 0 },
    dropLost: vi.fn(),
  };
}

let beat: InstanceType<typeof Heartbeat> | undefined;
beforeEach(() => {
  vi.useFakeTimers();
  renewLeases.mockClear();
});
afterEach(() => {
  beat?.stop();
  vi.useRealTimers();
});

function start(slots: ReturnType<typeof fakeSlots>, writes = new SerialWrites(), log = vi.fn()) {
  beat = new Heartbeat({ workerId: "wrk_1", leaseMs: 3000, writes, slots: slots as unknown as Slots, log });
  return { log };
}

describe("the heartbeat", () => {
  it("renews every held job once (running, unwritten, reserved) and the worker's counts, every third of the lease", async () => {
    const slots = fakeSlots({ running: [1, 2], unwritten: [2, 3], reserved: [4] });
    start(slots);
    await vi.advanceTimersByTimeAsync(999);
    expect(renewLeases).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(renewLeases).toHaveBeenCalledTimes(1);
    const [worker, ids, calls, leaseMs, counts] = renewLeases.mock.calls[0]!;
    expect(worker).toBe("wrk_1");
    expect([...(ids as number[])].sort()).toEqual([1, 2, 3, 4]);
    expect(calls).toEqual([]);
    expect(leaseMs).toBe(3000);
    expect(counts).toEqual({ running: 2, processed: 7, failed: 2 });
    await vi.advanceTimersByTimeAsync(2000);
    expect(renewLeases).toHaveBeenCalledTimes(3);
  });

  it("hands the slots what it asked for and what came back held, so they drop the rest", async () => {
    const slots = fakeSlots({ running: [1, 2], unwritten: [], reserved: [3] });
    renewLeases.mockResolvedValueOnce(held([1, 3]));
    start(slots);
    await beat!.beat();
    expect(slots.dropLost).toHaveBeenCalledWith([1, 2, 3], new Set([1, 3]));
  });

  it("sends a chunked batch's jobs as their calls, each with how many of its jobs are held here (running or unwritten): no job id, whatever chunk_size", async () => {
    const big = Array.from({ length: 2048 }, (_, i) => inCall(1000 + i, 7));
    const slots = fakeSlots({ running: [1, ...big, inCall(5, 8), inCall(6, 8)], unwritten: [[9, "b_chunk", 8], 10], reserved: [] });
    start(slots);
    await beat!.beat();
    const [, ids, calls] = renewLeases.mock.calls[0]!;
    expect([...(ids as number[])].sort()).toEqual([1, 10]);
    expect(calls).toEqual([
      { batchId: "b_chunk", callId: 7, jobs: 2048 },
      { batchId: "b_chunk", callId: 8, jobs: 3 },
    ]);
  });

  it("a call held whole checks none of its jobs; a call not whole checks each, and one not returned loses them all", async () => {
    const slots = fakeSlots({
      running: [1, inCall(5, 7), inCall(6, 7), inCall(11, 8), inCall(12, 8), inCall(13, 8), inCall(21, 9), inCall(22, 9)],
      unwritten: [],
      reserved: [],
      lost: [13],
    });
    // call 7 whole; call 8 (13 already found lost: not counted) comes back with 11 alone; call 9 not at all
    renewLeases.mockResolvedValueOnce(held([1, 11], ["b_chunk 7"]));
    start(slots);
    await beat!.beat();
    const [, , calls] = renewLeases.mock.calls[0]!;
    expect(calls).toContainEqual({ batchId: "b_chunk", callId: 8, jobs: 2 });
    expect(slots.dropLost).toHaveBeenCalledWith([1, 11, 12, 21, 22], new Set([1, 11]));
  });

  it("waits behind a write already queued on the same rows", async () => {
    const writes = new SerialWrites();
    let finish!: () => void;
    void writes.run(() => new Promise<void>((r) => (finish = r)));
    start(fakeSlots({ running: [1], unwritten: [], reserved: [] }), writes);
    const beating = beat!.beat();
    await vi.advanceTimersByTimeAsync(0);
    expect(renewLeases).not.toHaveBeenCalled();
    finish();
    await beating;
    expect(renewLeases).toHaveBeenCalledTimes(1);
  });

  it("logs a failed beat and drops nothing; stop() ends the beats", async () => {
    const slots = fakeSlots({ running: [1], unwritten: [], reserved: [] });
    renewLeases.mockRejectedValueOnce(new Error("connection refused"));
    const { log } = start(slots);
    await expect(beat!.beat()).resolves.toBeUndefined();
    expect(log).toHaveBeenCalledWith("heartbeat failed: connection refused");
    expect(slots.dropLost).not.toHaveBeenCalled();
    beat!.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(renewLeases).toHaveBeenCalledTimes(1);
  });
});
