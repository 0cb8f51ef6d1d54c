// Claiming runnable jobs without outcomes to write (a worker's first claim, or one after an idle
// spell): the worker cycle statement (./cycle) with an empty outcome list.
import type pg from "pg";
import { getPool } from "@/lib/db/client";
import { runCycle, type ClaimedJob } from "./cycle";

export type { ClaimedJob } from "./cycle";

/** Claims up to `want` calls (one job each, or a chunk of a chunked batch) for worker `owner` with a lease of `leaseMs` (on `client`: inside its transaction). */
export async function claimJobs(
  owner: string,
  want: number,
  leaseMs: number,
  maxBatches = 4,
  client: pg.ClientBase | pg.Pool = getPool(),
): Promise<ClaimedJob[]> {
  if (want <= 0) return [];
  return (await runCycle(client, owner, [], { want, leaseMs, maxBatches })).claimed;
}
