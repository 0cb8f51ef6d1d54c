// The batches list sorted by each key: every batch exactly once across keyset pages, in order, ties
// broken by id; and a cursor of one order refused by another.
import { beforeAll, describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { listBatches } from "@/lib/engine";
import { AppError } from "@/lib/errors";
import { BATCH_SORTS } from "@/lib/contract/batch-sort";
import type { BatchRead } from "@/lib/engine";
// not a React hook: the name only says it hooks into beforeAll/afterAll
import { useTestDatabase as withTestDatabase } from "../helpers/db";

withTestDatabase();

const N = 37;

beforeAll(async () => {
  // few distinct values per key, so most of each page boundary falls inside a tie
  await getPool().query(
    `INSERT INTO batches (id, flow, status, total, succeeded, failed, cost_spent, created_at, started_at, completed_at)
     SELECT 'b' || lpad(i::text, 3, '0'), 'echo', CASE WHEN i % 5 = 0 THEN 'pending' ELSE 'completed' END::batch_status,
            10, CASE WHEN i % 5 = 0 THEN 0 ELSE i % 3 * 5 END, 0, (i % 4) * 0.25,
            '2026-01-01'::timestamptz + (i / 2) * interval '1 minute',
            CASE WHEN i % 5 = 0 THEN NULL ELSE '2026-01-01'::timestamptz END,
            CASE WHEN i % 5 = 0 THEN NULL ELSE '2026-01-01'::timestamptz + (i % 2 + 1) * interval '10 seconds' END
     FROM generate_series(1, $1) i`,
    [N],
  );
});

const keyOf = (b: BatchRead, sort: string): number =>
  sort === "created" ? b.createdAt.getTime()
  : sort === "progress" ? (b.succeeded + b.failed + b.cancelled + b.skipped) / b.total
  : sort === "cost" ? b.costSpent
  : (b.itemsPerSecond ?? -1);

async function walk(sort: (typeof BATCH_SORTS)[number], order: "asc" | "desc") {
  const seen: BatchRead[] = [];
  let cursor: string | null = null;
  do {
    const page = await listBatches({ sort, order, cursor, limit: 4 });
    expect(page.total).toBe(N);
    seen.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return seen;
}

describe("listBatches sorted", () => {
  for (const sort of BATCH_SORTS) {
    for (const order of ["asc", "desc"] as const) {
      it(`${sort} ${order}: every batch once, by key then id`, async () => {
        const seen = await walk(sort, order);
        expect(new Set(seen.map((b) => b.id)).size).toBe(N);
        const sign = order === "asc" ? 1 : -1;
        const expected = [...seen].sort((a, b) => sign * (keyOf(a, sort) - keyOf(b, sort)) || sign * (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        expect(seen.map((b) => b.id)).toEqual(expected.map((b) => b.id));
        // the keys do tie, so the id tiebreak is what this walks through
        expect(new Set(seen.map((b) => keyOf(b, sort))).size).toBeLessThan(N);
      });
    }
  }

  it("refuses a cursor of another order", async () => {
    const page = await listBatches({ sort: "cost", order: "desc", limit: 2 });
    const err = await listBatches({ sort: "rate", order: "desc", limit: 2, cursor: page.nextCursor }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("validation_failed");
    const created = await listBatches({ sort: "created", limit: 2 });
    await expect(listBatches({ sort: "cost", limit: 2, cursor: created.nextCursor })).rejects.toBeInstanceOf(AppError);
  });
});
