// The heartbeat: every third of the lease it renews, in one write, the leases of every job this
// worker holds (running, reserved, or with an outcome not yet written), each once, with its counts;
// what came back not held is handed to the slots to drop; it waits behind the outbox's writes; a
// failed beat is logged, never thrown; stop() ends the beats.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Slots } from "@/lib/worker/slots";

const renewLeases = vi.hoisted(() => vi.fn(async (..._args: unknown[]): Promise<Set<number>> => new Set()));
vi.mock("@/lib/engine/workers", () => ({ renewLeases }));

const { Heartbeat } = await import("@/lib/worker/heartbeat");
const { SerialWrites } = await import("@/lib/worker/outbox");

/** The parts of Slots a heartbeat reads: running attempts, unwritten outcomes, reservations, counts. */
function fakeSlots(o: { running: number[]; unwritten: number[]; reserved: number[] }) {
  return {
    running: new Map(o.running.map((id) => [id, {}])),
    outbox: { unwritten: new Set(o.unwritten) },
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
    const [worker, ids, leaseMs, counts] = renewLeases.mock.calls[0]!;
    expect(worker).toBe("wrk_1");
    expect([...(ids as number[])].sort()).toEqual([1, 2, 3, 4]);
    expect(leaseMs).toBe(3000);
    expect(counts).toEqual({ running: 2, processed: 7, failed: 2 });
    await vi.advanceTimersByTimeAsync(2000);
    expect(renewLeases).toHaveBeenCalledTimes(3);
  });

  it("hands the slots what it asked for and what came back held, so they drop the rest", async () => {
    const slots = fakeSlots({ running: [1, 2], unwritten: [], reserved: [3] });
    renewLeases.mockResolvedValueOnce(new Set([1, 3]));
    start(slots);
    await beat!.beat();
    expect(slots.dropLost).toHaveBeenCalledWith([1, 2, 3], new Set([1, 3]));
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
