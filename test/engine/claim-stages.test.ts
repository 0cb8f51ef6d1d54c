// The claim's stages, one at a time, on a real database: which batches a claim takes jobs from and
// how many each gets. No worker runs: each test claims by hand and counts what it got per batch.
import { readFileSync } from "node:fs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { cancelBatch, createBatch, type CreateBatchInput } from "@/lib/engine";
import { claimJobs, type ClaimedJob } from "@/lib/engine/claim";
import { writeOutcomes, type Outcome } from "@/lib/engine/complete";
import { runCycle, STARVED_AFTER_MS } from "@/lib/engine/cycle";
import { withTx } from "@/lib/engine/db";
import { useTestDatabase as withTestDatabase } from "../helpers/db";
import { registerTestFlows } from "./fixtures/flows";
import { expectCountersExact, waitFor } from "./helpers";

withTestDatabase();
registerTestFlows();

const OWNER = "claimer-1";
const OTHER = "claimer-2";

beforeAll(async () => {
  await getPool().query(`INSERT INTO workers (id, host, pid, mode, lease_until) SELECT unnest($1::text[]), 'test', 0, 'standalone', now()`, [[OWNER, OTHER]]);
});

// each test starts with nothing runnable: what one leaves must not feed the next one's claims
afterEach(async () => {
  const { rows } = await getPool().query<{ id: string }>(`SELECT id FROM batches WHERE status IN ('pending', 'running', 'paused')`);
  for (const r of rows) await cancelBatch(r.id);
});

const records = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, n: i }));
const make = (n: number, extra: Partial<CreateBatchInput> = {}) =>
  createBatch({ flow: "t-echo", source: { kind: "records", records: records(n), recordIdField: "id" }, ...extra });

/** Jobs claimed per batch, in the order of `ids` (0 for a batch that got none). */
const perBatch = (claimed: ClaimedJob[], ids: string[]) => ids.map((id) => claimed.filter((j) => j.batch_id === id).length);

/** Makes a batch look as if it had waited `seconds` for a claim (never claimed, created that long ago). */
const backdate = (id: string, seconds: number) =>
  getPool().query(`UPDATE batches SET created_at = now() - make_interval(secs => $2), last_claimed_at = NULL WHERE id = $1`, [id, seconds]);

describe("priority", () => {
  it("a batch of higher priority gets every slot it can use before a lower one gets any", async () => {
    const low1 = await make(100, { priority: -10, concurrency: 64 });
    const high = await make(100, { priority: 10, concurrency: 64 });
    const low2 = await make(100, { priority: -10, concurrency: 64 });
    const got = await claimJobs(OWNER, 64, 60_000);
    expect(perBatch(got, [low1.id, high.id, low2.id])).toEqual([0, 64, 0]);
    for (const b of [low1, high, low2]) await expectCountersExact(b.id);
  });

  it("what the higher batch cannot use (its concurrency, its ready jobs) goes to the next priority down", async () => {
    const low = await make(100, { priority: -5, concurrency: 64 });
    const high = await make(100, { priority: 10, concurrency: 40 });
    const small = await make(3, { priority: 5, concurrency: 64 });
    const got = await claimJobs(OWNER, 64, 60_000);
    // high: its concurrency (40); small: its 3 jobs; low: the remaining 21
    expect(perBatch(got, [high.id, small.id, low.id])).toEqual([40, 3, 21]);
  });

  it("retries not due yet take no slot: a higher batch waiting on backoff leaves the worker to the lower one", async () => {
    const high = await make(4, { priority: 10, concurrency: 64 });
    const low = await make(100, { priority: 0, concurrency: 64 });
    const first = await claimJobs(OWNER, 4, 60_000);
    expect(perBatch(first, [high.id, low.id])).toEqual([4, 0]);
    // the four attempts fail and wait a minute before their retry
    await withTx((c) => writeOutcomes(c, OWNER, first.map((j) => ({ id: j.id, attempts: j.attempts, interruptions: j.interruptions, status: "pending" as const, cost: 0, logs: null, delayMs: 60_000, durationMs: 1 }))));
    const got = await claimJobs(OWNER, 64, 60_000);
    expect(perBatch(got, [high.id, low.id])).toEqual([0, 64]);
    await expectCountersExact(high.id);
  });
});

describe("equal priority", () => {
  it("splits the wanted jobs evenly, the odd one to the least recently claimed", async () => {
    const a = await make(100, { concurrency: 64 });
    const b = await make(100, { concurrency: 64 });
    const c = await make(100, { concurrency: 64 });
    const got = await claimJobs(OWNER, 64, 60_000);
    // none was ever claimed: the oldest goes first
    expect(perBatch(got, [a.id, b.id, c.id])).toEqual([22, 21, 21]);
    // round-robin: two jobs go to the first two, the next two to the one left out, then the oldest
    expect(perBatch(await claimJobs(OWNER, 2, 60_000), [a.id, b.id, c.id])).toEqual([1, 1, 0]);
    expect(perBatch(await claimJobs(OWNER, 2, 60_000), [a.id, b.id, c.id])).toEqual([1, 0, 1]);
    for (const x of [a, b, c]) await expectCountersExact(x.id);
  });

  it("a batch that can use less than an even share gets all it can use, the others split the rest", async () => {
    const a = await make(100, { concurrency: 64 });
    const narrow = await make(100, { concurrency: 5 });
    const b = await make(100, { concurrency: 64 });
    const got = await claimJobs(OWNER, 64, 60_000);
    expect(perBatch(got, [a.id, narrow.id, b.id])).toEqual([30, 5, 29]);
  });
});

describe("starvation", () => {
  it("a lower-priority batch that waited past the bound goes first for one claim, then priority rules again", async () => {
    const high = await make(200, { priority: 10, concurrency: 64 });
    const low = await make(100, { priority: -10, concurrency: 16 });
    expect(perBatch(await claimJobs(OWNER, 8, 60_000), [high.id, low.id])).toEqual([8, 0]);
    // just under the bound: still behind the higher batch
    await backdate(low.id, STARVED_AFTER_MS / 1000 - 5);
    expect(perBatch(await claimJobs(OWNER, 8, 60_000), [high.id, low.id])).toEqual([8, 0]);
    // past it: the low batch gets the slots it can use (its concurrency, 16) before the higher one
    await backdate(low.id, STARVED_AFTER_MS / 1000 + 1);
    expect(perBatch(await claimJobs(OWNER, 20, 60_000), [high.id, low.id])).toEqual([4, 16]);
    // claimed from, it is not starved any more
    const { rows } = await getPool().query(`SELECT last_claimed_at > now() - interval '5 seconds' AS fresh FROM batches WHERE id = $1`, [low.id]);
    expect(rows[0].fresh).toBe(true);
    await getPool().query(`UPDATE batches SET concurrency = 64 WHERE id = $1`, [low.id]);
    expect(perBatch(await claimJobs(OWNER, 8, 60_000), [high.id, low.id])).toEqual([8, 0]);
    for (const b of [high, low]) await expectCountersExact(b.id);
  });

  it("a batch passed over is not counted as claimed: its wait keeps growing", async () => {
    const high = await make(200, { priority: 10, concurrency: 64 });
    const low = await make(100, { priority: -10, concurrency: 16 });
    await claimJobs(OWNER, 8, 60_000);
    const { rows } = await getPool().query(`SELECT last_claimed_at FROM batches WHERE id = ANY($1::text[]) ORDER BY priority DESC`, [[high.id, low.id]]);
    expect(rows[0].last_claimed_at).not.toBeNull();
    expect(rows[1].last_claimed_at).toBeNull();
  });
});

describe("the minimum claim", () => {
  it("takes nothing below the minimum, capped at an eighth of the candidates' concurrency", async () => {
    const wide = await make(100, { concurrency: 64 });
    // an eighth of 64 is 8: 4 jobs are not worth a round of their own
    expect((await runCycle(getPool(), OWNER, [], { want: 4, leaseMs: 60_000, min: 8 })).claimed).toEqual([]);
    expect(perBatch((await runCycle(getPool(), OWNER, [], { want: 8, leaseMs: 60_000, min: 8 })).claimed, [wide.id])).toEqual([8]);
    await cancelBatch(wide.id);
    // an eighth of 16 is 2: a minimum of 8 asks no more than 2 of a batch that narrow
    const narrow = await make(100, { concurrency: 16 });
    expect(perBatch((await runCycle(getPool(), OWNER, [], { want: 2, leaseMs: 60_000, min: 8 })).claimed, [narrow.id])).toEqual([2]);
    for (const b of [wide, narrow]) await expectCountersExact(b.id);
  });
});

describe("the cap on batches per claim", () => {
  it("spreads one claim over at most max_batches batches, the least recently claimed first", async () => {
    const batches = [];
    for (let i = 0; i < 6; i++) batches.push(await make(50, { concurrency: 64 }));
    const ids = batches.map((b) => b.id);
    expect(perBatch(await claimJobs(OWNER, 64, 60_000, 4), ids)).toEqual([16, 16, 16, 16, 0, 0]);
    // the two left out come first next time; a claim of 2 jobs spreads over 2 batches at most
    expect(perBatch(await claimJobs(OWNER, 2, 60_000, 4), ids)).toEqual([0, 0, 0, 0, 1, 1]);
    expect(perBatch(await claimJobs(OWNER, 3, 60_000, 1), ids)).toEqual([3, 0, 0, 0, 0, 0]);
  });
});

describe("the fence", () => {
  const outcome = (job: ClaimedJob, o: Partial<Outcome> = {}): Outcome => ({
    id: job.id, attempts: job.attempts, interruptions: job.interruptions, status: "succeeded", result: "1", cost: 0, logs: null, delayMs: 0, durationMs: 1, ...o,
  });
  const write = (owner: string, outcomes: Outcome[]) => withTx((c) => writeOutcomes(c, owner, outcomes));

  it("writes an outcome only under the job's lease owner, for the attempt it was claimed as", async () => {
    const b = await make(1, { max_retries: 3 });
    const [job] = await claimJobs(OWNER, 1, 60_000);
    expect((await write(OTHER, [outcome(job!)])).applied).toBe(0);
    expect((await write(OWNER, [outcome(job!, { attempts: job!.attempts + 1 })])).applied).toBe(0);
    expect((await write(OWNER, [outcome(job!, { interruptions: job!.interruptions + 1 })])).applied).toBe(0);
    expect((await write(OWNER, [outcome(job!, { reserved: true })])).applied).toBe(0);
    await expectCountersExact(b.id);
    expect((await write(OWNER, [outcome(job!)])).applied).toBe(1);
    // written once: the same outcome again changes nothing
    expect((await write(OWNER, [outcome(job!)])).applied).toBe(0);
    const { rows } = await getPool().query(`SELECT status, succeeded, running FROM batches WHERE id = $1`, [b.id]);
    expect(rows[0]).toEqual({ status: "completed", succeeded: 1, running: 0 });
    await expectCountersExact(b.id);
  });

  it("a job claimed again after its lease was taken back fences the outcome of the attempt before", async () => {
    const b = await make(1, { max_retries: 3 });
    const [first] = await claimJobs(OWNER, 1, 60_000);
    // the attempt fails and is retried at once: the same worker claims the job again
    expect((await write(OWNER, [outcome(first!, { status: "pending", result: null })])).applied).toBe(1);
    const [second] = await claimJobs(OWNER, 1, 60_000);
    expect(second!.id).toBe(first!.id);
    expect(second!.attempts).toBe(first!.attempts + 1);
    expect((await write(OWNER, [outcome(first!)])).applied).toBe(0);
    expect((await write(OWNER, [outcome(second!)])).applied).toBe(1);
    await expectCountersExact(b.id);
  });

  it("reports the failures it wrote per batch: the counters move in the statement, not in the caller", async () => {
    const b = await make(3);
    const jobs = await claimJobs(OWNER, 3, 60_000);
    const failed = { status: "failed" as const, result: null, error: { code: "boom", message: "no", retryable: false } };
    const r = await runCycle(getPool(), OWNER, jobs.map((j, k) => outcome(j, k < 2 ? failed : {})), null);
    expect({ applied: r.applied, newFailures: [...r.newFailures] }).toEqual({ applied: 3, newFailures: [[b.id, 2]] });
    expect(r.states).toEqual([expect.objectContaining({ id: b.id, failed: 2, succeeded: 1, running: 0, pending: 0 })]);
    await expectCountersExact(b.id);
  });
});

describe("the statement file", () => {
  const sql = readFileSync(new URL("../../lib/db/sql/cycle.sql", import.meta.url), "utf8");

  it("documents every parameter it uses at the top, in order, and uses every one it documents", () => {
    const documented = [...sql.matchAll(/^--\s+\$(\d+)\s+(\w+)/gm)].map((m) => Number(m[1]));
    const body = sql.slice(sql.search(/^WITH$/m));
    const used = [...new Set([...body.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])))].sort((a, b) => a - b);
    expect(documented).toEqual(Array.from({ length: documented.length }, (_, i) => i + 1));
    expect(used).toEqual(documented);
  });
});

describe("start times", () => {
  // A claim's transaction begins when its statement arrives; its snapshot is taken only once its
  // locks are granted. A batch committed in between is claimed in that snapshot, and now() (the
  // transaction's start) is then earlier than the batch's created_at.
  it("a batch and its jobs start at the claim's execution, never before the batch was created", async () => {
    const locker = await getPool().connect();
    try {
      await locker.query("BEGIN");
      // the claim's statement writes job_attempts: it waits for this lock after its transaction began
      await locker.query("LOCK TABLE job_attempts IN ACCESS EXCLUSIVE MODE");
      const claiming = claimJobs(OWNER, 1, 60_000);
      await waitFor("the claim to wait for its lock", async () => {
        const { rows } = await getPool().query(
          `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '-- The worker cycle:%'`,
        );
        return rows.length > 0;
      }, 10_000, 10);
      const batch = await make(1);
      await locker.query("COMMIT");
      const got = await claiming;
      expect(perBatch(got, [batch.id])).toEqual([1]);
      const { rows } = await getPool().query<{ created_at: Date; started_at: Date; job_started_at: Date }>(
        `SELECT b.created_at, b.started_at, j.started_at AS job_started_at FROM batches b JOIN jobs j ON j.batch_id = b.id WHERE b.id = $1`,
        [batch.id],
      );
      expect(rows[0]!.started_at.getTime()).toBeGreaterThanOrEqual(rows[0]!.created_at.getTime());
      expect(rows[0]!.job_started_at.getTime()).toBeGreaterThanOrEqual(rows[0]!.created_at.getTime());
    } finally {
      await locker.query("ROLLBACK").catch(() => {});
      locker.release();
    }
  });
});
