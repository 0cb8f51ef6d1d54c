// The outbox: outcomes of one turn go in one write, writes never overlap and keep their order, a
// failed write keeps its outcomes first in line.
import { describe, expect, it, vi } from "vitest";
import type { Outcome } from "@/lib/engine/complete";
import { FLUSH_MAX, Outbox, SerialWrites } from "@/lib/worker/outbox";

const outcome = (id: number): Outcome => ({ id, attempts: 1, interruptions: 0, status: "succeeded", cost: 0, logs: null, delayMs: 0, durationMs: 1 });

function deferred() {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** An outbox whose writes are recorded and settled by the test. */
function setup() {
  const writes: { ids: number[]; done: ReturnType<typeof deferred> }[] = [];
  let active = 0;
  let overlapped = false;
  const onWritten = vi.fn();
  const log = vi.fn();
  const outbox = new Outbox({
    writes: new SerialWrites(),
    write: async (items) => {
      if (active > 0) overlapped = true;
      active++;
      const done = deferred();
      writes.push({ ids: items.map((o) => o.id), done });
      try {
        await done.promise;
      } finally {
        active--;
      }
    },
    onWritten,
    log,
  });
  return { outbox, writes, onWritten, log, overlapped: () => overlapped };
}

describe("Outbox", () => {
  it("writes the outcomes of one turn in one write, in order", async () => {
    const { outbox, writes, onWritten } = setup();
    for (const id of [3, 1, 2]) outbox.add(outcome(id), "b");
    expect(writes).toHaveLength(0);
    await vi.waitFor(() => expect(writes).toHaveLength(1));
    expect(writes[0]!.ids).toEqual([3, 1, 2]);
    expect(outbox.writing).toBe(3);
    expect(outbox.unwritten).toEqual(new Set([1, 2, 3]));
    expect(outbox.batchOf(1)).toBe("b");
    writes[0]!.done.resolve();
    await vi.waitFor(() => expect(onWritten).toHaveBeenCalledTimes(1));
    expect(outbox.writing).toBe(0);
    expect(outbox.unwritten.size).toBe(0);
    expect(outbox.batchOf(1)).toBeUndefined();
  });

  it("gathers the outcomes that settle during a write behind it: writes never overlap", async () => {
    const { outbox, writes, overlapped } = setup();
    outbox.add(outcome(1), "b");
    await vi.waitFor(() => expect(writes).toHaveLength(1));
    outbox.add(outcome(2), "b");
    await new Promise((r) => setImmediate(r));
    outbox.add(outcome(3), "b");
    await new Promise((r) => setImmediate(r));
    expect(writes).toHaveLength(1);
    expect(outbox.length).toBe(2);
    writes[0]!.done.resolve();
    await vi.waitFor(() => expect(writes).toHaveLength(2));
    expect(writes[1]!.ids).toEqual([2, 3]);
    writes[1]!.done.resolve();
    await vi.waitFor(() => expect(outbox.unwritten.size).toBe(0));
    expect(overlapped()).toBe(false);
  });

  it("keeps a failed write's outcomes first in line and writes them again", async () => {
    const { outbox, writes, log, onWritten } = setup();
    outbox.add(outcome(1), "b");
    outbox.add(outcome(2), "b");
    await vi.waitFor(() => expect(writes).toHaveLength(1));
    outbox.add(outcome(3), "b");
    writes[0]!.done.reject(new Error("connection lost"));
    await vi.waitFor(() => expect(log).toHaveBeenCalledWith("flush failed (2 outcomes): connection lost"));
    expect(outbox.failures).toBe(1);
    expect(outbox.unwritten).toEqual(new Set([1, 2, 3]));
    await vi.waitFor(() => expect(writes).toHaveLength(2));
    expect(writes[1]!.ids).toEqual([1, 2, 3]);
    writes[1]!.done.resolve();
    await vi.waitFor(() => expect(onWritten).toHaveBeenCalledTimes(1));
    expect(outbox.failures).toBe(0);
    expect(outbox.unwritten.size).toBe(0);
  });

  it("writes at most FLUSH_MAX outcomes at once, the rest in the next write", async () => {
    const { outbox, writes } = setup();
    for (let id = 1; id <= FLUSH_MAX + 2; id++) outbox.add(outcome(id), "b");
    await vi.waitFor(() => expect(writes).toHaveLength(1));
    expect(writes[0]!.ids).toHaveLength(FLUSH_MAX);
    writes[0]!.done.resolve();
    await vi.waitFor(() => expect(writes).toHaveLength(2));
    expect(writes[1]!.ids).toEqual([FLUSH_MAX + 1, FLUSH_MAX + 2]);
    writes[1]!.done.resolve();
  });
});

describe("SerialWrites", () => {
  it("runs writes one at a time in the order queued, past a failed one", async () => {
    const serial = new SerialWrites();
    const order: string[] = [];
    const first = deferred();
    const a = serial.run(async () => {
      order.push("a start");
      await first.promise;
      order.push("a end");
    });
    const b = serial.run(async () => {
      order.push("b");
      throw new Error("b failed");
    });
    const c = serial.run(async () => {
      order.push("c");
    });
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(["a start"]);
    first.resolve();
    await a;
    await expect(b).rejects.toThrow("b failed");
    await c;
    await serial.idle();
    expect(order).toEqual(["a start", "a end", "b", "c"]);
  });
});
