// pg-boss (bench/node_modules, latest): N no-op jobs bulk-inserted with boss.insert before timing,
// then boss.work runs them. Timed from PostgreSQL's own record: min(started_on) to
// max(completed_on) of the queue's jobs, polled until every job is completed.
import { PgBoss } from "pg-boss";
import pg from "pg";
import { childConfig, childMain, pollUntil, ResourceSampler, round } from "../lib/child";
import type { SystemResult } from "../lib/types";

interface Config {
  url: string;
  jobs: number;
  setting: "defaults" | "fastest";
  /** stop waiting after this long and report the rate over the jobs done so far */
  maxSeconds: number;
}

const cfg = childConfig<Config>();
const QUEUE = "noop";

// pg-boss's documented levers for throughput: fetch `batchSize` jobs per poll (the handler gets the
// array and they complete in one statement), several local workers, the shortest polling interval
// (0.5 s) and burst mode, which fetches again at once while fetches come back full.
const FASTEST = { batchSize: 100, localConcurrency: 4, pollingIntervalSeconds: 0.5, burstWhenBatchFull: true };

let boss: PgBoss;

childMain<SystemResult>(
  async () => {
    boss = new PgBoss({ connectionString: cfg.url, max: 10 });
    boss.on("error", (e: unknown) => console.error(`[pg-boss] ${String(e)}`));
    await boss.start();
    await boss.createQueue(QUEUE);
    const jobs = Array.from({ length: cfg.jobs }, (_, i) => ({ data: { i } }));
    for (let i = 0; i < jobs.length; i += 10_000) await boss.insert(QUEUE, jobs.slice(i, i + 10_000));
  },
  async () => {
    const sampler = new ResourceSampler();
    sampler.begin();
    const probe = new pg.Client({ connectionString: cfg.url });
    await probe.connect();
    const noop = async () => {};
    if (cfg.setting === "fastest") await boss.work(QUEUE, FASTEST, noop);
    else await boss.work(QUEUE, noop);
    // at its defaults pg-boss fetches one job per 2 s poll, so it may not finish: then the rate is
    // taken over the jobs it completed within maxSeconds
    const finished = await pollUntil(
      async () => {
        const { rows } = await probe.query(
          "SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'completed'",
          [QUEUE],
        );
        return rows[0].n >= cfg.jobs;
      },
      250,
      cfg.maxSeconds * 1000,
      "pg-boss to finish",
    ).catch(() => false);
    const use = sampler.end();
    await boss.stop({ graceful: true, timeout: 5000 });
    const { rows } = await probe.query(
      `SELECT count(*)::int AS n, extract(epoch FROM max(completed_on) - min(started_on))::float8 AS s
       FROM pgboss.job WHERE name = $1 AND state = 'completed'`,
      [QUEUE],
    );
    await probe.end();
    const done = rows[0].n as number;
    const seconds = rows[0].s as number;
    const setting =
      cfg.setting === "fastest"
        ? `batchSize ${FASTEST.batchSize}, localConcurrency ${FASTEST.localConcurrency}, pollingIntervalSeconds ${FASTEST.pollingIntervalSeconds}, burstWhenBatchFull`
        : "batchSize 1, localConcurrency 1, pollingIntervalSeconds 2";
    return {
      jobs: done,
      seconds: round(seconds, 3),
      perSecond: round(done / seconds, 1),
      ...use,
      notes: finished ? setting : `${setting}; stopped after ${cfg.maxSeconds} s with ${done.toLocaleString("en-US")} of ${cfg.jobs.toLocaleString("en-US")} done`,
    };
  },
);
