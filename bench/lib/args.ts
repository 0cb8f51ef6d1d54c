// Flags for `npm run bench -- ...`.
import { parseArgs } from "node:util";

export interface BenchOptions {
  quick: boolean;
  jobs: number;
  apiJobs: number;
  inlineRecords: number;
  datasetRows: number;
  refSeconds: number;
  clients: number;
  /** head-to-head rounds (graphile-worker fastest, pg-boss fastest, ours): each row is the median */
  rounds: number;
  /** inline-batch ingest requests (after one small warm-up request): the row is the median */
  ingestRuns: number;
  concurrency: number;
  only: Set<string> | null;
  durable: boolean;
  profile: boolean;
  out: string;
}

export const SECTIONS = ["ref", "graphile", "pgboss", "engine", "cycle", "api", "ratelimits", "chunks", "pages"] as const;

const HELP = `npm run bench -- [flags]
  --quick                 a smoke run in a couple of minutes (5,000 jobs, 100,000 API jobs, smaller ingest)
  --jobs=N                jobs per throughput run (default 50,000; quick 5,000)
  --api-jobs=N            jobs in the database for the latency and memory run (default 1,000,000; quick 100,000)
  --inline-records=N      records in the inline-batch ingest (default 100,000; quick 20,000)
  --dataset-rows=N        rows in the dataset import (default 1,000,000; quick 100,000; also feeds the API batch)
  --ref-seconds=S         duration of each timed pg reference loop (default 10; quick 3)
  --clients=N             clients of the pg reference loops (default 4)
  --rounds=N              head-to-head rounds of graphile-worker fastest, pg-boss fastest and our 1-worker
                          run, interleaved in rotating order; each reports its median (default 3; quick 1)
  --ingest-runs=N         timed inline-batch requests after a warm-up one; the row is the median (default 3; quick 1)
  --concurrency=N         our worker's concurrency (default 64)
  --only=a,b              run only these sections: ${SECTIONS.join(", ")}
  --durable               synchronous_commit=on (default off: the disk is shared, see bench/README.md)
  --profile               pg_stat_statements on the server and --cpu-prof on our worker; prints the top statements
  --out=DIR               where latest.md and latest.json go (default bench/results)`;

export function parseBenchArgs(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      jobs: { type: "string" },
      "api-jobs": { type: "string" },
      "inline-records": { type: "string" },
      "dataset-rows": { type: "string" },
      "ref-seconds": { type: "string" },
      clients: { type: "string" },
      rounds: { type: "string" },
      "ingest-runs": { type: "string" },
      concurrency: { type: "string" },
      only: { type: "string" },
      durable: { type: "boolean", default: false },
      profile: { type: "boolean", default: false },
      out: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const q = values.quick;
  const num = (v: string | undefined, full: number, quick: number) => {
    if (v === undefined) return q ? quick : full;
    const n = Number(v.replace(/[_,]/g, ""));
    if (!Number.isFinite(n) || n <= 0) throw new Error(`not a positive number: ${v}\n\n${HELP}`);
    return n;
  };
  const only = values.only ? new Set(values.only.split(",").map((s) => s.trim())) : null;
  for (const s of only ?? []) {
    if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`unknown section ${s}\n\n${HELP}`);
  }
  return {
    quick: q,
    jobs: num(values.jobs, 50_000, 5_000),
    apiJobs: num(values["api-jobs"], 1_000_000, 100_000),
    inlineRecords: num(values["inline-records"], 100_000, 20_000),
    datasetRows: num(values["dataset-rows"], 1_000_000, 100_000),
    refSeconds: num(values["ref-seconds"], 10, 3),
    clients: num(values.clients, 4, 4),
    rounds: num(values.rounds, 3, 1),
    ingestRuns: num(values["ingest-runs"], 3, 1),
    concurrency: num(values.concurrency, 64, 64),
    only,
    durable: values.durable,
    profile: values.profile,
    out: values.out ?? "bench/results",
  };
}
