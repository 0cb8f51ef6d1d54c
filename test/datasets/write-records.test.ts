import { describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { AppError } from "@/lib/errors";
import { extractRecordId, extractRecordIds } from "@/lib/datasets/record-ids";
import { writeDatasetRecords } from "@/lib/datasets/write-records";
import { useTestDatabase } from "../helpers/db";

async function withDataset<T>(id: string, fn: (client: import("pg").PoolClient) => Promise<T>): Promise<T> {
  const client = await getPool().connect();
  try {
    await client.query("BEGIN");
    await client.query("INSERT INTO datasets (id, name) VALUES ($1, $1)", [id]);
    const out = await fn(client);
    await client.query("COMMIT");
    return out;
  } catch (err) {
    await client.query("ROLLBACK");
    throw err;
  } finally {
    client.release();
  }
}

describe("writeDatasetRecords", () => {
  useTestDatabase();

  it("stores awkward ids and JSON exactly, in order, from an async iterable", async () => {
    const data = [
      { text: "tab\there, newline\nthere, backslash \\ and \"quotes\"", n: 1 },
      "a plain string",
      { nested: { emoji: "ü 🎉", cr: "a\rb" } },
      null,
    ];
    const ids = ["a\tb", "c\\d", "e\nf", "plain"];
    async function* rows() {
      for (let i = 0; i < data.length; i++) yield { recordId: ids[i]!, data: data[i] };
    }
    const res = await withDataset("ds_w1", (c) => writeDatasetRecords(c, "ds_w1", rows()));
    expect(res.count).toBe(4);
    const { rows: stored } = await getPool().query(
      "SELECT position, record_id, data FROM dataset_records WHERE dataset_id = 'ds_w1' ORDER BY position",
    );
    expect(stored.map((r) => r.record_id)).toEqual(ids);
    expect(stored.map((r) => r.data)).toEqual(data);
    expect(stored.map((r) => r.position)).toEqual([0, 1, 2, 3]);
  });

  it("refuses a duplicate id naming the row, and the transaction leaves nothing", async () => {
    const rows = [
      { recordId: "x", data: 1 },
      { recordId: "y", data: 2 },
      { recordId: "x", data: 3 },
    ];
    const err = await withDataset("ds_w2", (c) =>
      writeDatasetRecords(c, "ds_w2", rows, { describePosition: (p) => `line ${p + 2}` }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe("validation_failed");
    expect((err as AppError).details[0]?.path).toBe("line 4");
    expect((err as AppError).message).toContain('"x"');
    const { rows: left } = await getPool().query("SELECT count(*)::int AS n FROM datasets WHERE id = 'ds_w2'");
    expect(left[0].n).toBe(0);
  });

  it("takes rows in batches too, numbering them in order", async () => {
    async function* batches() {
      yield [{ recordId: "a", data: 1 }, { recordId: "b", data: 2 }];
      yield { recordId: "c", data: 3 };
      yield [{ recordId: "d", data: 4 }];
    }
    const res = await withDataset("ds_w4", (c) => writeDatasetRecords(c, "ds_w4", batches(), { startPosition: 10 }));
    expect(res.count).toBe(4);
    const { rows } = await getPool().query("SELECT position, record_id FROM dataset_records WHERE dataset_id = 'ds_w4' ORDER BY position");
    expect(rows.map((r) => [r.position, r.record_id])).toEqual([
      [10, "a"],
      [11, "b"],
      [12, "c"],
      [13, "d"],
    ]);
  });

  it("checks the dataset once for the COPY, and leaves foreign-key checks on for the rest of the transaction", async () => {
    await withDataset("ds_w5", async (c) => {
      await writeDatasetRecords(c, "ds_w5", [{ recordId: "a", data: 1 }]);
      expect((await c.query("SHOW session_replication_role")).rows[0].session_replication_role).toBe("origin");
      await c.query("SAVEPOINT orphan");
      const orphan = await c
        .query("INSERT INTO dataset_records (dataset_id, position, record_id, data) VALUES ('ds_nope', 0, 'x', '1')")
        .catch((e: { code?: string }) => e);
      expect((orphan as { code?: string }).code).toBe("23503");
      await c.query("ROLLBACK TO SAVEPOINT orphan");
    });
    const client = await getPool().connect();
    try {
      await client.query("BEGIN");
      const err = await writeDatasetRecords(client, "ds_missing", [{ recordId: "a", data: 1 }]).catch((e: { code?: string }) => e);
      expect((err as { code?: string }).code).toBe("23503");
    } finally {
      await client.query("ROLLBACK");
      client.release();
    }
  });

  it("refuses JSON PostgreSQL cannot store (\\u0000) as a 422 naming the row", async () => {
    const err = await withDataset("ds_w3", (c) =>
      writeDatasetRecords(c, "ds_w3", [{ recordId: "1", data: "ok" }, { recordId: "2", data: "nul\u0000" }]),
    ).catch((e: unknown) => e);
    expect((err as AppError).code).toBe("validation_failed");
    expect((err as AppError).details[0]?.path).toBe("records.1");
  });
});

describe("extractRecordId", () => {
  it("takes the id field of objects and numbers everything else", () => {
    expect(extractRecordId({ id: 7, a: 1 }, 0, "id", "records")).toEqual({ recordId: "7", data: { id: 7, a: 1 } });
    expect(extractRecordId("hello", 4, "id", "records")).toEqual({ recordId: "5", data: "hello" });
  });

  it("names the missing field's path", () => {
    const err = (() => {
      try {
        extractRecordId({ name: "x" }, 2, "key", "records");
      } catch (e) {
        return e as AppError;
      }
    })();
    expect(err?.code).toBe("validation_failed");
    expect(err?.details[0]?.path).toBe("records.2.key");
  });

  it("refuses duplicates across an array", () => {
    expect(() => extractRecordIds([{ id: "a" }, { id: "b" }, { id: "a" }], "id", "records")).toThrow(/duplicate record id "a"/);
  });
});
