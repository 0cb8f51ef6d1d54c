import { describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { MAX_JSON_DEPTH } from "@/lib/db/storable";
import { AppError } from "@/lib/errors";
import {
  createDatasetFromRecords,
  deleteDataset,
  ensureDemoDataset,
  getDataset,
  importDataset,
  listDatasets,
  listRecords,
  type DatasetRecordItem,
} from "@/lib/datasets";
import { useTestDatabase } from "../helpers/db";

async function refused(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

async function countRows(name: string) {
  const { rows } = await getPool().query(
    `SELECT (SELECT count(*)::int FROM datasets WHERE name = $1) AS datasets,
            (SELECT count(*)::int FROM dataset_records r JOIN datasets d ON d.id = r.dataset_id WHERE d.name = $1) AS records`,
    [name],
  );
  return rows[0] as { datasets: number; records: number };
}

async function allRecords(id: string, limit = 100): Promise<DatasetRecordItem[]> {
  const out: DatasetRecordItem[] = [];
  let cursor: string | null = null;
  do {
    const page = await listRecords(id, { cursor, limit });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** Splits a string into small byte chunks, so parsers see records cut across chunk boundaries. */
async function* dribble(text: string, size = 7): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

describe("importDataset", () => {
  useTestDatabase();

  it("imports CSV with a chosen id column, keeping values as text and source order", async () => {
    const csv = 'sku,title,price\r\nb-2,"Widget, large",10\r\na-1,"Quote ""here""\nand a newline",3\r\n';
    const ds = await importDataset({ name: "csv-ids", format: "csv", body: dribble(csv), idField: "sku" });
    expect(ds).toMatchObject({ kind: "upload", format: "csv", idField: "sku", recordCount: 2, sizeBytes: Buffer.byteLength(csv) });
    const records = await allRecords(ds.id);
    expect(records).toEqual([
      { recordId: "b-2", position: 0, data: { sku: "b-2", title: "Widget, large", price: "10" } },
      { recordId: "a-1", position: 1, data: { sku: "a-1", title: 'Quote "here"\nand a newline', price: "3" } },
    ]);
  });

  it("generates ids for CSV without an id column, and uses an `id` column when present", async () => {
    const gen = await importDataset({ name: "csv-gen", format: "csv", body: "text\nhello\nworld\n" });
    expect(gen.idField).toBeNull();
    expect((await allRecords(gen.id)).map((r) => r.recordId)).toEqual(["1", "2"]);
    const withId = await importDataset({ name: "csv-id", format: "csv", body: "id,text\nx,hello\n" });
    expect(withId.idField).toBe("id");
    expect((await allRecords(withId.id))[0]?.recordId).toBe("x");
  });

  it("refuses a CSV whose chosen id column does not exist", async () => {
    const err = await refused(importDataset({ name: "csv-noid", format: "csv", body: "a,b\n1,2\n", idField: "sku" }));
    expect(err.code).toBe("validation_failed");
    expect(err.message).toContain('"sku"');
    expect(await countRows("csv-noid")).toEqual({ datasets: 0, records: 0 });
  });

  it("refuses a CSV row with the wrong number of fields, naming its line, and writes nothing", async () => {
    const err = await refused(importDataset({ name: "csv-bad", format: "csv", body: "id,text\n1,a\n2,b\n3,c,extra\n4,d\n" }));
    expect(err.code).toBe("validation_failed");
    expect(err.details[0]?.path).toBe("line 4");
    expect(err.message).toContain("line 4");
    expect(await countRows("csv-bad")).toEqual({ datasets: 0, records: 0 });
  });

  it("imports JSONL line by line, skipping blank lines, with ids from the id field", async () => {
    const body = '{"id":"a","n":1}\n\n{"id":"b","n":2}\r\n{"id":3,"n":3}';
    const ds = await importDataset({ name: "jsonl", format: "jsonl", body: dribble(body, 3) });
    expect(ds).toMatchObject({ format: "jsonl", idField: "id", recordCount: 3 });
    expect((await allRecords(ds.id)).map((r) => [r.recordId, r.data])).toEqual([
      ["a", { id: "a", n: 1 }],
      ["b", { id: "b", n: 2 }],
      ["3", { id: 3, n: 3 }],
    ]);
  });

  it("refuses malformed JSONL whole, naming the line", async () => {
    const lines = Array.from({ length: 20 }, (_, i) => JSON.stringify({ id: `r${i + 1}` }));
    lines[16] = '{"id": "r17", oops}';
    const err = await refused(importDataset({ name: "jsonl-bad", format: "jsonl", body: lines.join("\n") }));
    expect(err.code).toBe("validation_failed");
    expect(err.details[0]?.path).toBe("line 17");
    expect(err.message).toMatch(/^line 17: invalid JSON/);
    expect(await countRows("jsonl-bad")).toEqual({ datasets: 0, records: 0 });
  });

  it("refuses a record nested deeper than MAX_JSON_DEPTH (JSONL and JSON array), naming the line; one within it imports", async () => {
    const nested = (n: number) => "[".repeat(n) + "1" + "]".repeat(n);
    const deep = `{"id":"r2","x":${nested(10_000)}}`;
    const jsonl = await refused(importDataset({ name: "deep", format: "jsonl", body: `{"id":"r1"}\n${deep}\n` }));
    expect(jsonl.details[0]?.path).toBe("line 2");
    expect(jsonl.message).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
    const array = await refused(importDataset({ name: "deep", format: "json", body: `[{"id":"r1"},\n${deep}]` }));
    expect(array.details[0]?.path).toBe("line 2");
    expect(await countRows("deep")).toEqual({ datasets: 0, records: 0 });
    const ok = await importDataset({ name: "deep", format: "jsonl", body: `{"id":"r1","x":${nested(MAX_JSON_DEPTH - 1)}}\n` });
    expect(ok.recordCount).toBe(1);
  });

  it("refuses a JSONL record missing its id field once ids come from a field", async () => {
    const err = await refused(importDataset({ name: "jsonl-noid", format: "jsonl", body: '{"id":"a"}\n{"text":"no id"}\n' }));
    expect(err.details[0]?.path).toBe("line 2");
    expect(await countRows("jsonl-noid")).toEqual({ datasets: 0, records: 0 });
  });

  it("refuses duplicate ids, naming the line of the repeat, and writes nothing", async () => {
    const body = ['{"id":"a"}', '{"id":"b"}', "", '{"id":"a"}'].join("\n");
    const err = await refused(importDataset({ name: "jsonl-dup", format: "jsonl", body }));
    expect(err.code).toBe("validation_failed");
    expect(err.status).toBe(422);
    expect(err.details[0]?.path).toBe("line 4");
    expect(err.message).toContain('duplicate record id "a"');
    expect(await countRows("jsonl-dup")).toEqual({ datasets: 0, records: 0 });
  });

  it("imports a JSON array incrementally, pretty-printed or not, with generated ids for scalars", async () => {
    const objects = [{ id: "x", tags: ["a", "]", "{"], note: 'say "hi", ok' }, { id: "y", nested: { deep: [1, [2]] } }];
    const ds = await importDataset({ name: "json", format: "json", body: dribble(JSON.stringify(objects, null, 2), 5) });
    expect(ds).toMatchObject({ format: "json", idField: "id", recordCount: 2 });
    expect((await allRecords(ds.id)).map((r) => r.data)).toEqual(objects);

    const scalars = await importDataset({ name: "json-scalars", format: "json", body: '[ "first", "second" , 3 ]' });
    expect((await allRecords(scalars.id)).map((r) => [r.recordId, r.data])).toEqual([
      ["1", "first"],
      ["2", "second"],
      ["3", 3],
    ]);
  });

  it("refuses a malformed JSON array naming the line", async () => {
    const err = await refused(importDataset({ name: "json-bad", format: "json", body: '[\n {"id":"a"},\n {"id":"b",},\n {"id":"c"}\n]' }));
    expect(err.details[0]?.path).toBe("line 3");
    const unclosed = await refused(importDataset({ name: "json-bad", format: "json", body: '[{"id":"a"},\n{"id":"b"}' }));
    expect(unclosed.message).toContain("not closed");
    const notArray = await refused(importDataset({ name: "json-bad", format: "json", body: '{"id":"a"}' }));
    expect(notArray.details[0]?.path).toBe("line 1");
    const trailing = await refused(importDataset({ name: "json-bad", format: "json", body: '[{"id":"a"},\n]' }));
    expect(trailing.details[0]?.path).toBe("line 2");
    // elements are handed on a read chunk at a time: the earlier problem is still the one named
    const both = await refused(importDataset({ name: "json-bad", format: "json", body: '[\n {"id":"a"},\n {id:"b"},\n]' }));
    expect(both.details[0]?.path).toBe("line 3");
    expect(both.message).toContain("invalid JSON");
    expect(await countRows("json-bad")).toEqual({ datasets: 0, records: 0 });
  });

  it("imports the OpenAI Batch input format: custom_id is the record id, the whole line is the data", async () => {
    const lines = [
      { custom_id: "request-1", method: "POST", url: "/v1/chat/completions", body: { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] } },
      { custom_id: "request-2", method: "POST", url: "/v1/chat/completions", body: { model: "gpt-4o-mini", messages: [] } },
    ];
    const ds = await importDataset({ name: "openai", format: "openai", body: lines.map((l) => JSON.stringify(l)).join("\n") + "\n" });
    expect(ds).toMatchObject({ format: "openai", idField: "custom_id", recordCount: 2 });
    const records = await allRecords(ds.id);
    expect(records.map((r) => r.recordId)).toEqual(["request-1", "request-2"]);
    expect(records[0]?.data).toEqual(lines[0]);
  });

  it("refuses an OpenAI line without custom_id, naming the line", async () => {
    const body = '{"custom_id":"a","body":{}}\n{"method":"POST","body":{}}\n';
    const err = await refused(importDataset({ name: "openai-bad", format: "openai", body }));
    expect(err.details[0]?.path).toBe("line 2");
    expect(err.message).toContain("custom_id");
    expect(await countRows("openai-bad")).toEqual({ datasets: 0, records: 0 });
  });

  it("refuses a taken name with 409, an oversized body with 413, and an empty file with 422", async () => {
    await importDataset({ name: "taken", format: "jsonl", body: '{"id":"a"}' });
    expect((await refused(importDataset({ name: "taken", format: "jsonl", body: '{"id":"b"}' }))).code).toBe("conflict");
    const big = await refused(importDataset({ name: "big", format: "jsonl", body: dribble('{"id":"a"}\n'.repeat(100), 64), maxBytes: 500 }));
    expect(big.code).toBe("payload_too_large");
    expect(big.status).toBe(413);
    expect(await countRows("big")).toEqual({ datasets: 0, records: 0 });
    expect((await refused(importDataset({ name: "empty", format: "csv", body: "id,text\n" }))).code).toBe("validation_failed");
  });

  it("accepts a web ReadableStream body", async () => {
    const bytes = Buffer.from('{"id":"s1"}\n{"id":"s2"}\n');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.subarray(0, 10));
        controller.enqueue(bytes.subarray(10));
        controller.close();
      },
    });
    const ds = await importDataset({ name: "web-stream", format: "jsonl", body: stream });
    expect(ds.recordCount).toBe(2);
  });

  it("accepts a Node stream, including one that yields strings, counting bytes not characters", async () => {
    const { Readable } = await import("node:stream");
    const text = '{"id":"ü1","t":"naïve"}\n{"id":"ü2"}\n';
    const stream = Readable.from([Buffer.from(text)]).setEncoding("utf8");
    const ds = await importDataset({ name: "node-stream", format: "jsonl", body: stream });
    expect(ds).toMatchObject({ recordCount: 2, sizeBytes: Buffer.byteLength(text) });
    expect((await allRecords(ds.id)).map((r) => r.recordId)).toEqual(["ü1", "ü2"]);
  });

  it("leaves no pooled connection in replica mode after imports", async () => {
    await importDataset({ name: "replica-check", format: "jsonl", body: '{"id":"a"}' });
    await importDataset({ name: "replica-check", format: "jsonl", body: '{"id":"a"}' }).catch(() => {});
    const pool = getPool();
    const clients = await Promise.all(Array.from({ length: pool.options.max ?? 10 }, () => pool.connect()));
    try {
      for (const c of clients) expect((await c.query("SHOW session_replication_role")).rows[0].session_replication_role).toBe("origin");
    } finally {
      for (const c of clients) c.release();
    }
  });

  it("round-trips 1,000 rows through listRecords in source order", async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({ id: `row-${1000 - i}`, i, text: `text ${i}\twith tab` }));
    const ds = await importDataset({ name: "thousand", format: "jsonl", body: rows.map((r) => JSON.stringify(r)).join("\n") });
    expect(ds.recordCount).toBe(1000);
    const page = await listRecords(ds.id, { limit: 300 });
    expect(page.total).toBe(1000);
    expect(page.items).toHaveLength(300);
    const all = await allRecords(ds.name, 300);
    expect(all.map((r) => r.data)).toEqual(rows);
    expect(all.map((r) => r.position)).toEqual(rows.map((_, i) => i));
  });
});

describe("createDatasetFromRecords, listing and deleting", () => {
  useTestDatabase();

  it("creates from objects and strings, and refuses duplicates naming the record", async () => {
    const ds = await createDatasetFromRecords({ name: "inline-json", records: [{ id: "a", t: 1 }, { id: "b", t: 2 }] });
    expect(ds).toMatchObject({ format: "inline", idField: "id", recordCount: 2, kind: "upload" });
    const strings = await createDatasetFromRecords({ name: "strings", records: ["one", "two"] });
    expect((await allRecords(strings.id)).map((r) => r.recordId)).toEqual(["1", "2"]);
    const err = await refused(createDatasetFromRecords({ name: "dups", records: [{ id: "a" }, { id: "a" }] }));
    expect(err.details[0]?.path).toBe("records.1");
    expect(await countRows("dups")).toEqual({ datasets: 0, records: 0 });
  });

  it("lists upload and demo datasets newest first with a cursor, never inline ones", async () => {
    for (const n of ["l1", "l2", "l3"]) await createDatasetFromRecords({ name: n, records: ["x"] });
    await createDatasetFromRecords({ name: "batch-inline", records: ["x"], kind: "inline" });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await listDatasets({ cursor, limit: 2 });
      seen.push(...page.items.map((d) => d.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).not.toContain("batch-inline");
    expect(seen.indexOf("l3")).toBeLessThan(seen.indexOf("l2"));
    expect(seen.indexOf("l2")).toBeLessThan(seen.indexOf("l1"));
    expect(new Set(seen).size).toBe(seen.length);
    expect((await listDatasets({ limit: 100 })).total).toBe(seen.length);
    expect((await refused(listDatasets({ cursor: "garbage", limit: 2 }))).code).toBe("validation_failed");
  });

  it("deletes a dataset, refusing with 409 while an unfinished batch uses it", async () => {
    const ds = await createDatasetFromRecords({ name: "to-delete", records: ["x"] });
    await getPool().query("INSERT INTO batches (id, flow, dataset_id, status) VALUES ('batch_t1', 'echo', $1, 'running')", [ds.id]);
    expect((await refused(deleteDataset(ds.id))).code).toBe("conflict");
    await getPool().query("UPDATE batches SET status = 'completed' WHERE id = 'batch_t1'");
    await deleteDataset(ds.id);
    expect((await refused(getDataset(ds.id))).code).toBe("not_found");
    expect(await countRows("to-delete")).toEqual({ datasets: 0, records: 0 });
    // the finished batch stays, without its link
    expect((await getPool().query("SELECT dataset_id FROM batches WHERE id = 'batch_t1'")).rows).toEqual([{ dataset_id: null }]);
    expect((await refused(deleteDataset(ds.id))).code).toBe("not_found");
  });
});

describe("ensureDemoDataset", () => {
  useTestDatabase();

  it("loads data/demo/reviews.jsonl once, even when called twice at the same time", async () => {
    await Promise.all([ensureDemoDataset(), ensureDemoDataset()]);
    await ensureDemoDataset();
    const demo = await getDataset("demo-reviews");
    expect(demo).toMatchObject({ kind: "demo", idField: "id", format: "jsonl", recordCount: 3000 });
    expect(await countRows("demo-reviews")).toEqual({ datasets: 1, records: 3000 });
    const first = (await listRecords(demo.id, { limit: 1 })).items[0];
    expect(first?.recordId).toBe("rev-0001");
    expect(first?.data).toMatchObject({ id: "rev-0001", text: expect.any(String), rating: expect.any(Number) });
  });
});
