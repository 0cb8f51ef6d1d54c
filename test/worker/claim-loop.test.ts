// The claim loop on its own (lib/worker/claim-loop.ts) over a real database and real slots, the
// claims watched as they go to the real claimJobs: idle, it backs off, doubling its wait up to
// pollMs; a wake-up (NOTIFY of new work) ends the wait at once; a failed claim is logged and the loop
// goes on; it fills the free slots and leaves once the slots are stopping.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { getPool } from "@/lib/db/client";
import { cancelBatch, createBatch } from "@/lib/engine";
import { registerFlow } from "@/lib/flows/registry";
import { defineFlow } from "@/lib/flows/types";
import { useTestDatabase } from "../helpers/db";
import { waitFor } from "../engine/helpers";

const claims = vi.hoisted(() => ({ at: [] as number[], failNext: false }));
vi.mock("@/lib/engine/claim", async (importOriginal) => {
  const real = await importOriginal<typeof import("@/lib/engine/claim")>();
  return {
    ...real,
    claimJobs: (...args: Parameters<typeof real.claimJobs>) => {
      claims.at.push(Date.now());
      if (claims.failNext) {
        claims.failNext = false;
        return Promise.reject(new Error("connection reset"));
      }
      return real.claimJobs(...args);
    },
  };
});

const { runClaimLoop } = await import("@/lib/worker/claim-loop");
const { Slots } = await import("@/lib/worker/slots");
const { SerialWrites } = await import("@/lib/worker/outbox");
const { Wake } = await import("@/lib/worker/wake");
const { AbortReason } = await import("@/lib/worker/attempt");

useTestDatabase();

/** Runs until the test ends (its attempts are aborted then). */
registerFlow(
  defineFlow({
    name: "t-wait",
    description: "runs until stopped",
    parameters: z.object({}),
    run: () => new Promise(() => {}),
  }),
);

const WORKER = "claim-loop-test";

beforeAll(async () => {
  await getPool().query(`INSERT INTO workers (id, host, pid, mode, lease_until) VALUES ($1, 'test', 0, 'standalone', now() + interval '1 hour')`, [WORKER]);
});

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
  claims.at = [];
  const { rows } = await getPool().query<{ id: string }>(`SELECT id FROM batches WHERE status IN ('pending', 'running', 'paused')`);
  for (const r of rows) await cancelBatch(r.id);
});

function startLoop(o: { concurrency: number; pollMs: number }) {
  const wake = new Wake();
  const log = vi.fn();
  const slots = new Slots({ workerId: WORKER, concurrency: o.concurrency, leaseMs: 60_000, log, wake, writes: new SerialWrites() });
  const loop = runClaimLoop({ workerId: WORKER, leaseMs: 60_000, pollMs: o.pollMs, slots, wake, log });
  stop = async () => {
    slots.stopping = true;
    wake.wake();
    await loop;
    for (const a of slots.running.values()) a.abort(new AbortReason("shutdown", "the test ended"));
    await Promise.all([...slots.running.values()].map((a) => a.done));
    await waitFor("the outbox to be empty", async () => slots.outbox.length === 0 && slots.outbox.writing === 0);
  };
  return { wake, log, slots, loop };
}

const gaps = () => claims.at.slice(1).map((t, i) => t - claims.at[i]!);

describe("the claim loop", () => {
  it("idle, it backs off: each empty claim doubles the wait before the next, up to pollMs", async () => {
    startLoop({ concurrency: 4, pollMs: 200 });
    await new Promise((r) => setTimeout(r, 1500));
    const g = gaps();
    // 5, 10, 20, 40, 80, 160 ms, then pollMs: about ten claims in 1.5 s (without the backoff, hundreds)
    expect(claims.at.length).toBeGreaterThanOrEqual(6);
    expect(claims.at.length).toBeLessThanOrEqual(16);
    expect(g[0]!).toBeLessThan(100);
    // never more than pollMs (and the claim's own time) apart
    for (const d of g) expect(d).toBeLessThan(200 + 150);
    expect(g.slice(-2).every((d) => d >= 190)).toBe(true);
  });

  it("a wake-up (new work) ends its wait at once; it claims what its slots can run", async () => {
    const { wake, slots } = startLoop({ concurrency: 4, pollMs: 60_000 });
    // backed off to waits of more than half a second
    await waitFor("the loop to back off", async () => claims.at.length >= 9);
    const batch = await createBatch({ flow: "t-wait", source: { kind: "records", records: [{ id: "a" }, { id: "b" }], recordIdField: "id" } });
    const woken = Date.now();
    wake.wake();
    await waitFor("the batch's jobs to run", async () => slots.running.size === 2, 5_000, 5);
    expect(Date.now() - woken).toBeLessThan(300);
    expect([...slots.running.values()].every((a) => a.job.batch_id === batch.id)).toBe(true);
  });

  it("a failed claim is logged and the loop goes on", async () => {
    claims.failNext = true;
    const { log } = startLoop({ concurrency: 4, pollMs: 100 });
    await waitFor("two claims", async () => claims.at.length >= 2);
    expect(log).toHaveBeenCalledWith("claim failed: connection reset");
  });

  it("leaves once the slots are stopping, at the next wake-up, without another claim", async () => {
    const { wake, slots, loop } = startLoop({ concurrency: 4, pollMs: 60_000 });
    // backed off, and waiting (the next claim is more than half a second away), not claiming
    await waitFor("the loop to back off", async () => claims.at.length >= 9);
    await new Promise((r) => setTimeout(r, 100));
    const before = claims.at.length;
    slots.stopping = true;
    wake.wake();
    const left = await Promise.race([loop.then(() => "left"), new Promise((r) => setTimeout(() => r("still looping"), 1000))]);
    expect(left).toBe("left");
    expect(claims.at.length).toBe(before);
  });
});
