import { expect, test } from "@playwright/test";
import { createDataset, createPausedBatch, detailPaths, expectError, unique } from "../fixtures";

test.describe("datasets", () => {
  test("create from a JSON body; get by id and name; records paginate in source order", async ({ request }) => {
    const name = unique("json");
    const ds = await createDataset(request, [{ id: "a", n: 1 }, { id: "b", n: 2 }, { id: "c", n: 3 }], name);
    expect(ds).toMatchObject({ name, kind: "upload", id_field: "id", record_count: 3 });
    expect(ds.id).toMatch(/^ds_/);
    expect(await (await request.get(`/api/datasets/${ds.id}`)).json()).toMatchObject({ id: ds.id, name });
    expect(await (await request.get(`/api/datasets/${name}`)).json()).toMatchObject({ id: ds.id });
    const p1 = await (await request.get(`/api/datasets/${ds.id}/records?limit=2`)).json();
    expect(p1).toMatchObject({ total: 3, items: [{ record_id: "a", position: 0, data: { id: "a", n: 1 } }, { record_id: "b", position: 1 }] });
    const p2 = await (await request.get(`/api/datasets/${ds.id}/records?limit=2&cursor=${encodeURIComponent(p1.next_cursor)}`)).json();
    expect(p2.items.map((r: { record_id: string }) => r.record_id)).toEqual(["c"]);
    expect(p2.next_cursor).toBeNull();
    const list = await (await request.get("/api/datasets?limit=1000")).json();
    expect(list.items.map((d: { id: string }) => d.id)).toContain(ds.id);
    expect(list.total).toBeGreaterThanOrEqual(1);
  });

  test("upload raw CSV, JSONL and a JSON array with ?name=&format=&id_field=", async ({ request }) => {
    const csv = await request.post(`/api/datasets?name=${unique("csv")}&id_field=key`, {
      data: 'key,text\nk1,hello\nk2,"a, ""quoted"" b"\n',
      headers: { "Content-Type": "text/csv" },
    });
    expect(csv.status(), await csv.text()).toBe(201);
    const c = await csv.json();
    expect(c).toMatchObject({ format: "csv", id_field: "key", record_count: 2 });
    const recs = await (await request.get(`/api/datasets/${c.id}/records`)).json();
    expect(recs.items[1]).toMatchObject({ record_id: "k2", data: { key: "k2", text: 'a, "quoted" b' } });

    const jsonl = await request.post(`/api/datasets?name=${unique("jsonl")}`, {
      data: '{"id":"x","v":1}\n{"id":"y","v":2}\n',
      headers: { "Content-Type": "application/x-ndjson" },
    });
    expect(jsonl.status(), await jsonl.text()).toBe(201);
    expect(await jsonl.json()).toMatchObject({ format: "jsonl", record_count: 2 });

    const arr = await request.post(`/api/datasets?name=${unique("arr")}`, { data: '[{"id":"p"},{"id":"q"}]', headers: { "Content-Type": "application/json" } });
    expect(arr.status(), await arr.text()).toBe(201);
    expect(await arr.json()).toMatchObject({ format: "json", record_count: 2 });
  });

  test("upload multipart/form-data: the file field, name and format from the form or the file name", async ({ request }) => {
    const name = unique("mp");
    const res = await request.post("/api/datasets", {
      multipart: { name, file: { name: "reviews.jsonl", mimeType: "application/octet-stream", buffer: Buffer.from('{"id":"m1"}\n{"id":"m2"}\n{"id":"m3"}\n') } },
    });
    expect(res.status(), await res.text()).toBe(201);
    expect(await res.json()).toMatchObject({ name, format: "jsonl", record_count: 3 });

    const noFile = await request.post("/api/datasets", { multipart: { name: unique("nf") } });
    expect(detailPaths(await expectError(noFile, 422, "validation_failed"))).toContain("file");
  });

  test("upload errors: malformed file 422 naming the line, taken name 409, wrong type 415, no name 422, invalid JSON 400", async ({ request }) => {
    const bad = await request.post(`/api/datasets?name=${unique("bad")}`, { data: '{"id":"a"}\n{oops\n', headers: { "Content-Type": "application/x-ndjson" } });
    const err = await expectError(bad, 422, "validation_failed");
    expect(err.message).toMatch(/line 2/);
    const ds = await createDataset(request, [{ id: "a" }]);
    await expectError(await request.post("/api/datasets", { data: { name: ds.name, records: [{ id: "b" }] } }), 409, "conflict");
    await expectError(await request.post("/api/datasets", { data: "GIF89a", headers: { "Content-Type": "image/gif" } }), 415, "unsupported_media_type");
    expect(detailPaths(await expectError(await request.post("/api/datasets", { data: "id\n1\n", headers: { "Content-Type": "text/csv" } }), 422, "validation_failed"))).toContain("name");
    await expectError(await request.post("/api/datasets", { data: Buffer.from("{nope"), headers: { "Content-Type": "application/json" } }), 400, "invalid_json");
    const missing = await expectError(await request.post("/api/datasets", { data: { name: unique("x") } }), 422, "validation_failed");
    expect(detailPaths(missing)).toContain("records");
  });

  test("delete: 409 while an unfinished batch uses it, 204 after, then 404", async ({ request }) => {
    const ds = await createDataset(request, [{ id: "a" }, { id: "b" }]);
    const batch = await createPausedBatch(request, { records: undefined, dataset: ds.id });
    await expectError(await request.delete(`/api/datasets/${ds.id}`), 409, "conflict");
    await request.post(`/api/batches/${batch.id}/cancel`);
    const del = await request.delete(`/api/datasets/${ds.id}`);
    expect(del.status()).toBe(204);
    await expectError(await request.get(`/api/datasets/${ds.id}`), 404, "not_found");
    await expectError(await request.get(`/api/datasets/${ds.id}/records`), 404, "not_found");
    await expectError(await request.delete(`/api/datasets/${ds.id}`), 404, "not_found");
  });
});
