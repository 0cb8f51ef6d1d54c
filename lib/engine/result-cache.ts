// Reusing results (a batch's `cache` option): when a batch is created, each of its records whose flow,
// parameters and record data equal those of a succeeded job of an earlier batch takes that job's
// result at once, in the creating transaction, instead of running the flow. Such a job is succeeded
// with cost 0 and `cached_from` naming the batch the result came from; the batch counts the reused
// results and what they cost when they were made. Results a person's answers went into are reused
// only with cache_answers. Set-based: one statement whatever the batch's size.
import type pg from "pg";
import { countReusedResults, reuseEarlierResults } from "@/lib/db/sql/result-cache";
import { finishIfDone, moveCounters, type Settled } from "./transitions";

export interface ReuseOptions {
  batchId: string;
  flow: string;
  parameters: unknown;
  maxAgeSeconds: number | null;
  answers: boolean;
}

export interface Reused {
  jobs: number;
  savedCost: number;
  /** the batch finished here: every record had a result to reuse */
  settled: Settled[];
}

export async function reuseResults(client: pg.ClientBase, o: ReuseOptions): Promise<Reused> {
  const { jobs, saved } = await reuseEarlierResults(client, o);
  if (jobs === 0) return { jobs: 0, savedCost: 0, settled: [] };
  // the reused jobs went from pending to succeeded (reuseEarlierResults takes only pending ones)
  await moveCounters(client, [{ batch_id: o.batchId, from_counter: "pending", to_counter: "succeeded", jobs }]);
  await countReusedResults(client, o.batchId, jobs, saved);
  return { jobs, savedCost: saved, settled: await finishIfDone(client, [o.batchId]) };
}
