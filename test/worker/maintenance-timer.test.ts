// The maintenance timer: one round at a time, every `everyMs`; the claim loop is woken when a round
// made jobs runnable; retention and the other slow sweeps run on the first round and then once every
// ten minutes; a failed round is logged and the next one runs; after stop() no round starts.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

const m = vi.hoisted(() => ({
  expireLeases: vi.fn(async (): Promise<number> => 0),
  expirePrompts: vi.fn(async (): Promise<number> => 0),
  pollProviderBatches: vi.fn(async (): Promise<number> => 0),
  deliverWebhooks: vi.fn(async (): Promise<number> => 0),
  sweepOpenAIBatches: vi.fn(async (): Promise<number> => 0),
  sweepRetention: vi.fn(async (): Promise<number> => 0),
  sweepOrphanInlineDatasets: vi.fn(async (): Promise<number> => 0),
  pruneWorkers: vi.fn(async (): Promise<void> => {}),
}));
vi.mock("@/lib/engine/maintenance", () => ({
  expireLeases: m.expireLeases,
  deliverWebhooks: m.deliverWebhooks,
  sweepRetention: m.sweepRetention,
  sweepOrphanInlineDatasets: m.sweepOrphanInlineDatasets,
  pruneWorkers: m.pruneWorkers,
}));
vi.mock("@/lib/engine/prompts", () => ({ expirePrompts: m.expirePrompts }));
vi.mock("@/lib/engine/provider-batches", () => ({ pollProviderBatches: m.pollProviderBatches }));
vi.mock("@/lib/openai/sweep", () => ({ sweepOpenAIBatches: m.sweepOpenAIBatches }));

const { MaintenanceTimer } = await import("@/lib/worker/maintenance-timer");

let timer: InstanceType<typeof MaintenanceTimer> | undefined;
beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2030-01-01T00:00:00Z") });
  for (const f of Object.values(m)) f.mockClear();
});
afterEach(() => {
  timer?.stop();
  vi.useRealTimers();
});

function start(onRunnable = vi.fn(), log = vi.fn()) {
  timer = new MaintenanceTimer({ workerId: "wrk_1", everyMs: 1000, log, onRunnable });
  return { onRunnable, log };
}

describe("the maintenance timer", () => {
  it("runs a round at once and then every everyMs, the lease sweep as this worker", async () => {
    start();
    await vi.advanceTimersByTimeAsync(0);
    expect(m.expireLeases).toHaveBeenCalledTimes(1);
    expect(m.expireLeases).toHaveBeenCalledWith(1000, "wrk_1");
    await vi.advanceTimersByTimeAsync(3000);
    expect(m.expireLeases).toHaveBeenCalledTimes(4);
    expect(m.deliverWebhooks).toHaveBeenCalledTimes(4);
    expect(m.sweepOpenAIBatches).toHaveBeenCalledTimes(4);
  });

  it("never starts a round while one is under way", async () => {
    let finish!: () => void;
    m.deliverWebhooks.mockImplementationOnce(() => new Promise<number>((r) => (finish = () => r(0))));
    start();
    await vi.advanceTimersByTimeAsync(5000); // five ticks while the first round waits on its webhooks
    expect(m.expireLeases).toHaveBeenCalledTimes(1);
    finish();
    await vi.advanceTimersByTimeAsync(1000);
    expect(m.expireLeases).toHaveBeenCalledTimes(2);
  });

  it("wakes the claim loop when expired leases, expired prompts or ended provider batches made jobs runnable", async () => {
    const { onRunnable } = start();
    await vi.advanceTimersByTimeAsync(0);
    expect(onRunnable).not.toHaveBeenCalled();
    for (const f of [m.expireLeases, m.expirePrompts, m.pollProviderBatches]) {
      f.mockResolvedValueOnce(2);
      onRunnable.mockClear();
      await vi.advanceTimersByTimeAsync(1000);
      expect(onRunnable).toHaveBeenCalledTimes(1);
    }
  });

  it("sweeps retention, orphaned inline datasets and stopped workers on the first round, then once every ten minutes", async () => {
    const { log } = start();
    m.sweepRetention.mockResolvedValueOnce(3);
    await vi.advanceTimersByTimeAsync(0);
    expect(m.sweepRetention).toHaveBeenCalledTimes(1);
    expect(m.sweepOrphanInlineDatasets).toHaveBeenCalledTimes(1);
    expect(m.pruneWorkers).toHaveBeenCalledTimes(1);
    expect(log).toHaveBeenCalledWith("retention: deleted 3 finished batches");
    await vi.advanceTimersByTimeAsync(10 * 60_000 - 1000);
    expect(m.sweepRetention).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(2000);
    expect(m.sweepRetention).toHaveBeenCalledTimes(2);
    expect(m.pruneWorkers).toHaveBeenCalledTimes(2);
  });

  it("logs a failed round and runs the next", async () => {
    m.expireLeases.mockRejectedValueOnce(new Error("connection refused"));
    const { log } = start();
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toHaveBeenCalledWith("maintenance failed: connection refused");
    expect(m.deliverWebhooks).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1000);
    expect(m.deliverWebhooks).toHaveBeenCalledTimes(1);
  });

  it("starts no round after stop(); one under way finishes", async () => {
    let finish!: () => void;
    m.deliverWebhooks.mockImplementationOnce(() => new Promise<number>((r) => (finish = () => r(0))));
    start();
    await vi.advanceTimersByTimeAsync(0);
    timer!.stop();
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(m.sweepOpenAIBatches).toHaveBeenCalledTimes(1); // the round under way went on to its end
    await vi.advanceTimersByTimeAsync(5000);
    expect(m.expireLeases).toHaveBeenCalledTimes(1);
  });
});
