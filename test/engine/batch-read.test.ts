// One batch reads through Prisma Client (getBatch), the list through SQL (listBatches, whose sort keys
// and filters Prisma cannot state): the expiry and the rate are computed on both sides, and must agree.
import { describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { getBatch } from "@/lib/engine";
import { BATCH_SELECT, batchExpiredSql, toBatch, type BatchRow } from "@/lib/engine/map";
import { useTestDatabase } from "../helpers/db";

useTestDatabase();

interface Case {
  id: string;
  status: "running" | "completed" | "cancelled" | "paused";
  /** seconds ago */
  started: number | null;
  completed: number | null;
  succeeded: number;
  failed: number;
  cached: number;
  ttl: number | null;
  /** batch_metrics rows: [seconds ago, succeeded, failed] */
  metrics: [number, number, number][];
}

const CASES: Case[] = [
  { id: "br-running", status: "running", started: 600, completed: null, succeeded: 90, failed: 10, cached: 0, ttl: null, metrics: [[5, 30, 2], [20, 12, 1], [59 - 2, 4, 0], [90, 1000, 0]] },
  { id: "br-running-young", status: "running", started: 600, completed: null, succeeded: 3, failed: 0, cached: 0, ttl: null, metrics: [[2, 3, 0]] },
  { id: "br-running-cached", status: "running", started: 600, completed: null, succeeded: 5, failed: 0, cached: 5, ttl: null, metrics: [[2, 5, 0]] },
  { id: "br-not-started", status: "paused", started: null, completed: null, succeeded: 0, failed: 0, cached: 0, ttl: null, metrics: [] },
  { id: "br-done", status: "completed", started: 100, completed: 40, succeeded: 1200, failed: 30, cached: 30, ttl: null, metrics: [] },
  { id: "br-done-instant", status: "completed", started: 10, completed: 10, succeeded: 4, failed: 0, cached: 0, ttl: null, metrics: [] },
  { id: "br-within-ttl", status: "completed", started: 200, completed: 120, succeeded: 10, failed: 0, cached: 0, ttl: 3600, metrics: [] },
  { id: "br-past-ttl", status: "cancelled", started: 200, completed: 120, succeeded: 10, failed: 0, cached: 0, ttl: 60, metrics: [] },
  { id: "br-ttl-running", status: "running", started: 200, completed: null, succeeded: 1, failed: 0, cached: 0, ttl: 1, metrics: [] },
];

async function insert(c: Case) {
  const ago = (s: number | null) => (s === null ? null : new Date(Date.now() - s * 1000));
  await getPool().query(
    `INSERT INTO batches (id, flow, status, total, succeeded, failed, cached, ttl_seconds, started_at, completed_at, created_at, updated_at)
     VALUES ($1, 'echo', $2::batch_status, 10000, $3, $4, $5, $6, $7, $8, now() - interval '1 hour', COALESCE($8, now()))`,
    [c.id, c.status, c.succeeded, c.failed, c.cached, c.ttl, ago(c.started), ago(c.completed)],
  );
  for (const [s, ok, bad] of c.metrics) {
    await getPool().query(
      `INSERT INTO batch_metrics (batch_id, bucket, succeeded, failed, duration_hist) VALUES ($1, date_trunc('second', now()) - make_interval(secs => $2), $3, $4, '{}')`,
      [c.id, s, ok, bad],
    );
  }
}

describe("getBatch through Prisma Client", () => {
  it("finds the same batches as SQL's expiry and gives the same rate as the list's sort key", async () => {
    for (const c of CASES) await insert(c);
    let found = 0;
    for (const c of CASES) {
      const { rows } = await getPool().query<BatchRow>(`SELECT ${BATCH_SELECT} FROM batches b WHERE b.id = $1 AND NOT ${batchExpiredSql()}`, [c.id]);
      const viaPrisma = await getBatch(c.id).catch((err: Error) => err);
      if (!rows[0]) {
        expect(viaPrisma, c.id).toBeInstanceOf(Error);
        expect((viaPrisma as Error).message, c.id).toMatch(/not found/);
        continue;
      }
      found++;
      expect(viaPrisma, c.id).not.toBeInstanceOf(Error);
      const batch = viaPrisma as Awaited<ReturnType<typeof getBatch>>;
      const sql = toBatch(rows[0]);
      const { itemsPerSecond: rate, ...rest } = batch;
      const { itemsPerSecond: sqlRate, ...sqlRest } = sql;
      expect(rest, c.id).toEqual(sqlRest);
      if (sqlRate === null) expect(rate, c.id).toBeNull();
      else expect(rate, c.id).toBeCloseTo(sqlRate, 6);
    }
    expect(found).toBe(CASES.length - 1);
    // the figures themselves: the last minute's completions over 60 s while running; the run's over its length once done
    expect((await getBatch("br-running")).itemsPerSecond).toBeCloseTo((30 + 2 + 12 + 1 + 4) / 60, 6);
    expect((await getBatch("br-done")).itemsPerSecond).toBeCloseTo((1200 + 30 - 30) / 60, 3);
    expect((await getBatch("br-running-cached")).itemsPerSecond).toBeNull();
    await expect(getBatch("br-past-ttl")).rejects.toThrow(/not found/);
  });
});
