// Large inline batches write their records and their jobs on two connections at once
// (lib/engine/create-batch.ts): the same batch as the one-transaction path, never a batch without
// its records, and nothing left behind by a failure on either side.
import { describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { createBatch } from "@/lib/engine";
import { sweepOrphanInlineDatasets } from "@/lib/engine/maintenance";
import { AppError } from "@/lib/errors";
// not a React hook: the name only says it hooks into beforeAll/afterAll
import { useTestDatabase as withTestDatabase } from "../helpers/db";
import { registerTestFlows } from "./fixtures/flows";

withTestDatabase();
registerTestFlows();

const TWO = { parallelInlineMin: 1 };
const ONE = { parallelInlineMin: Number.POSITIVE_INFINITY };
const records = (n: number, extra: (i: number) => object = () => ({})) =>
  Array.from({ length: n }, (_, i) => ({ id: `r${i}`, text: `record ${i} ü 😀 \t\\ "q"`, ...extra(i) }));

async function counts() {
  const { rows } = await getPool().query<{ datasets: number; records: number; batches: number; jobs: number }>(
    `SELECT (SELECT count(*) FROM datasets)::int AS datasets, (SELECT count(*) FROM dataset_records)::int AS records,
            (SELECT count(*) FROM batches)::int AS batches, (SELECT count(*) FROM jobs)::int AS jobs`,
  );
  return rows[0]!;
}

async function snapshot(batchId: string) {
  const pool = getPool();
  const { rows: b } = await pool.query<{ dataset_id: string; total: number; pending: number }>(
    `SELECT dataset_id, total, pending FROM batches WHERE id = $1`,
    [batchId],
  );
  const { rows: ds } = await pool.query(`SELECT kind, record_count, size_bytes, id_field FROM datasets WHERE id = $1`, [b[0]!.dataset_id]);
  const { rows: recs } = await pool.query(`SELECT position, record_id, data FROM dataset_records WHERE dataset_id = $1 ORDER BY position`, [
    b[0]!.dataset_id,
  ]);
  const { rows: jobs } = await pool.query(`SELECT ordinal, position, record_id, status FROM jobs WHERE batch_id = $1 ORDER BY ordinal`, [batchId]);
  return { total: b[0]!.total, pending: b[0]!.pending, dataset: ds[0], recs, jobs };
}

describe("inline batches on two connections", () => {
  it("creates the same batch as one transaction: records, run order, counts", async () => {
    const input = { flow: "t-echo", source: { kind: "records" as const, records: records(500), recordIdField: "id" }, seed: "s2c" };
    const two = await snapshot((await createBatch(input, TWO)).id);
    const one = await snapshot((await createBatch(input, ONE)).id);
    expect(two.total).toBe(500);
    expect(two.pending).toBe(500);
    expect(two.recs).toHaveLength(500);
    expect(two).toEqual(one);
    // max_records caps the jobs, not the records
    const capped = await snapshot((await createBatch({ ...input, max_records: 40 }, TWO)).id);
    expect(capped.total).toBe(40);
    expect(capped.recs).toHaveLength(500);
    expect(capped.jobs).toEqual(one.jobs.slice(0, 40));
  });

  it("a record PostgreSQL refuses fails the whole creation with a 422 and leaves nothing behind", async () => {
    const before = await counts();
    const bad = records(300, (i) => (i === 217 ? { text: "nul\u0000" } : {}));
    const err = await createBatch({ flow: "t-echo", source: { kind: "records", records: bad, recordIdField: "id" } }, TWO).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("validation_failed");
    expect((err as AppError).details[0]?.path).toBe("records.217");
    expect(await counts()).toEqual(before);
  });

  it("a failure on the jobs side deletes the records the other connection committed", async () => {
    const pool = getPool();
    // fires even with row triggers off for the bulk write (session_replication_role = replica)
    await pool.query(`CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.record_id = 'r250' THEN RAISE EXCEPTION 'jobs side failed'; END IF; RETURN NEW; END $$`);
    await pool.query(`CREATE TRIGGER boom BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION boom()`);
    await pool.query(`ALTER TABLE jobs ENABLE ALWAYS TRIGGER boom`);
    try {
      const before = await counts();
      const err = await createBatch({ flow: "t-echo", source: { kind: "records", records: records(400), recordIdField: "id" } }, TWO).catch(
        (e: unknown) => e,
      );
      expect((err as Error).message).toContain("jobs side failed");
      expect(await counts()).toEqual(before);
    } finally {
      await pool.query(`DROP TRIGGER boom ON jobs; DROP FUNCTION boom()`);
    }
  });

  it("the maintenance sweep removes inline datasets a crash left without their batch, and nothing else", async () => {
    const pool = getPool();
    const kept = await createBatch({ flow: "t-echo", source: { kind: "records", records: records(5), recordIdField: "id" } }, TWO);
    await pool.query(`UPDATE datasets SET created_at = now() - interval '2 hours' WHERE name = $1`, [`inline:${kept.id}`]);
    await pool.query(
      `INSERT INTO datasets (id, name, kind, format, created_at) VALUES
         ('ds_orphan_old', 'inline:gone', 'inline', 'inline', now() - interval '2 hours'),
         ('ds_orphan_new', 'inline:under-way', 'inline', 'inline', now()),
         ('ds_upload_old', 'an upload', 'upload', 'jsonl', now() - interval '2 hours')`,
    );
    await pool.query(`INSERT INTO dataset_records (dataset_id, position, record_id, data) VALUES ('ds_orphan_old', 0, 'a', '{}')`);
    expect(await sweepOrphanInlineDatasets()).toBe(1);
    const { rows } = await pool.query<{ id: string }>(
      `SELECT id FROM datasets WHERE id IN ('ds_orphan_old', 'ds_orphan_new', 'ds_upload_old') OR name = $1 ORDER BY id`,
      [`inline:${kept.id}`],
    );
    expect(rows.map((r) => r.id)).toEqual([kept.datasetId, "ds_orphan_new", "ds_upload_old"].sort());
    const { rows: left } = await pool.query(`SELECT 1 FROM dataset_records WHERE dataset_id = 'ds_orphan_old'`);
    expect(left).toHaveLength(0);
  });
});
