// Fault injection at CI size: the scenarios of `npm run chaos` (test/support/chaos-scenarios.ts) on
// 600-job batches, with real standalone worker processes and a PostgreSQL of this file's own (the
// restart scenario stops it, so it cannot be the shared test server).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb } from "@/lib/db/client";
import {
  chaosSize,
  formatReports,
  gracefulRestarts,
  hangPastTimeout,
  killChunkedWorkers,
  killWorkers,
  restartDatabase,
  terminateConnections,
  type ScenarioReport,
} from "@/test/support/chaos-scenarios";
import { startChaosCluster, type ChaosCluster } from "@/test/support/cluster";

let cluster: ChaosCluster;
const size = chaosSize(600, true);
const log = () => {};

beforeAll(async () => {
  cluster = await startChaosCluster();
  process.env.DATABASE_URL = cluster.harnessUrl;
});
afterAll(async () => {
  await closeDb();
  await cluster?.close();
});

/** Every invariant held; on failure the message is the scenario's table and checks. */
function expectInvariants(r: ScenarioReport) {
  const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
  expect(failed, formatReports([r])).toEqual([]);
  // the fault really happened and the scenario checked something
  expect(r.checks.length).toBeGreaterThanOrEqual(10);
}

describe("faults: nothing lost, nothing doubled, the batch finishes, counters exact", () => {
  it("kill -9 of the worker at random moments, 3+ times", async () => {
    const r = await killWorkers({ cluster, size, log });
    expectInvariants(r);
    expect(r.succeeded + r.failed).toBe(600);
  }, 90_000);

  it("PostgreSQL stopped and restarted mid-batch: the same workers reconnect and finish", async () => {
    const r = await restartDatabase({ cluster, size, log });
    expectInvariants(r);
    expect(r.crashes).toEqual([]);
  }, 90_000);

  it("a flow hanging past its timeout fails with a timeout after every retry", async () => {
    const r = await hangPastTimeout({ cluster, size, log });
    expectInvariants(r);
    expect(r.failed).toBe(size.hangs);
  }, 90_000);

  it("workers' connections terminated repeatedly while they run", async () => {
    const r = await terminateConnections({ cluster, size, log });
    expectInvariants(r);
    expect(r.crashes).toEqual([]);
  }, 90_000);

  it("workers stopped with SIGTERM or SIGINT at random moments and restarted: nothing fails, no stop is counted", async () => {
    const r = await gracefulRestarts({ cluster, size, log });
    expectInvariants(r);
    expect({ succeeded: r.succeeded, failed: r.failed }).toEqual({ succeeded: 600, failed: 0 });
  }, 90_000);

  it("kill -9 of the worker of a chunked batch while it holds open calls, 3+ times", async () => {
    const r = await killChunkedWorkers({ cluster, size, log });
    expectInvariants(r);
    expect(r.succeeded + r.failed).toBe(600);
  }, 90_000);
});
