// graphile-worker (bench/node_modules, latest): N no-op jobs bulk-added with addJobs before timing,
// then one worker pool runs them. Timed from the first task start to the moment the last job is
// gone from the queue (graphile-worker deletes a job when it completes, batched or not).
import { Logger, makeWorkerUtils, run, type Runner, type WorkerUtils } from "graphile-worker";
import pg from "pg";
import { childConfig, childMain, pollUntil, ResourceSampler, round } from "../lib/child";
import type { SystemResult } from "../lib/types";

interface Config {
  url: string;
  jobs: number;
  setting: "defaults" | "fastest";
}

const cfg = childConfig<Config>();
const quiet = new Logger(() => (level, message) => {
  if (level === "error") console.error(`[graphile-worker] ${message}`);
});

// The fastest configuration graphile-worker documents (worker.graphile.org/docs/performance):
// a local queue of 500, batched completion and failure, 24 concurrent jobs on a pool of 25.
const FASTEST = {
  concurrentJobs: 24,
  maxPoolSize: 25,
  localQueue: { size: 500 },
  completeJobBatchDelay: 0,
  failJobBatchDelay: 0,
};

let utils: WorkerUtils;
let first = 0;
let handled = 0;

childMain<SystemResult>(
  async () => {
    utils = await makeWorkerUtils({ connectionString: cfg.url, logger: quiet });
    await utils.migrate();
    const specs = Array.from({ length: cfg.jobs }, (_, i) => ({ identifier: "noop", payload: { i } }));
    for (let i = 0; i < specs.length; i += 10_000) await utils.addJobs(specs.slice(i, i + 10_000));
  },
  async () => {
    const sampler = new ResourceSampler();
    sampler.begin();
    const probe = new pg.Client({ connectionString: cfg.url });
    await probe.connect();
    const runner: Runner = await run({
      connectionString: cfg.url,
      logger: quiet,
      noHandleSignals: true,
      taskList: {
        noop: async () => {
          if (!first) first = performance.now();
          handled++;
        },
      },
      ...(cfg.setting === "fastest"
        ? { concurrency: FASTEST.concurrentJobs, maxPoolSize: FASTEST.maxPoolSize, preset: { worker: FASTEST } }
        : {}),
    });
    const last = await pollUntil(
      async () => {
        if (handled < cfg.jobs) return null;
        const { rows } = await probe.query("SELECT count(*)::int AS n FROM graphile_worker._private_jobs");
        return rows[0].n === 0 ? performance.now() : null;
      },
      10,
      20 * 60_000,
      "graphile-worker to finish",
    );
    const use = sampler.end();
    await runner.stop();
    await probe.end();
    await utils.release();
    const seconds = (last - first) / 1000;
    return {
      jobs: cfg.jobs,
      seconds: round(seconds, 3),
      perSecond: round(cfg.jobs / seconds),
      ...use,
      notes: cfg.setting === "fastest" ? settingText(FASTEST) : "concurrentJobs 1, pollInterval 2000, no local queue, no batching",
    };
  },
);

function settingText(o: typeof FASTEST) {
  return `concurrentJobs ${o.concurrentJobs}, maxPoolSize ${o.maxPoolSize}, localQueue.size ${o.localQueue.size}, completeJobBatchDelay ${o.completeJobBatchDelay}, failJobBatchDelay ${o.failJobBatchDelay}`;
}
