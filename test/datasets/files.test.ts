// Datasets of files through POST /api/datasets: many files, a folder's files, or one zip, each file one
// record with its bytes in PostgreSQL; every bad input refused whole with a 4xx naming the file.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { getPool } from "@/lib/db/client";
import { useTestDatabase } from "../helpers/db";
import { call } from "../security/call";
import { handMadeZip, zipOf } from "../helpers/zip";

process.env.BATCHBOARD_AUTH = "off";
process.env.BATCHBOARD_MAX_FILE_BYTES = String(4 * 1024 * 1024);
process.env.BATCHBOARD_MAX_DATASET_FILES = "5";
process.env.BATCHBOARD_MAX_UPLOAD_BYTES = String(8 * 1024 * 1024);
useTestDatabase();

const PDF = Buffer.from("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(40, 7)]);
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A multipart body as a browser would send it (FormData encoded by fetch's Request). */
async function multipart(fields: Record<string, string>, files: { name: string; data: Buffer; type?: string; field?: string }[]) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (const f of files) form.append(f.field ?? "files", new Blob([new Uint8Array(f.data)], { type: f.type ?? "" }), f.name);
  const req = new Request("http://localhost/", { method: "POST", body: form });
  return { contentType: req.headers.get("content-type")!, body: Buffer.from(await req.arrayBuffer()) };
}

async function upload(query: string, body: { contentType: string; body: Buffer }) {
  return call("POST", "/api/datasets", { query, headers: { "content-type": body.contentType }, rawBody: body.body as unknown as string });
}

async function leftovers() {
  const { rows } = await getPool().query(
    `SELECT (SELECT count(*)::int FROM datasets WHERE kind = 'upload') AS datasets,
            (SELECT count(*)::int FROM dataset_records r JOIN datasets d ON d.id = r.dataset_id WHERE d.kind = 'upload') AS records,
            (SELECT count(*)::int FROM dataset_files) AS chunks`,
  );
  return rows[0];
}

async function download(dataset: string, recordId: string) {
  const res = await call("GET", "/api/datasets/[id]/file", { params: { id: dataset }, query: `record_id=${encodeURIComponent(recordId)}` });
  return res;
}

describe("a dataset of files", () => {
  it("stores a folder's files as records, each file's bytes streamed back unchanged", async () => {
    const big = Buffer.alloc(700 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 251; // several chunks, not compressible
    const body = await multipart({}, [
      { name: "invoices/inv-001.pdf", data: PDF, type: "application/pdf" },
      { name: "invoices/scan.png", data: PNG, type: "" },
      { name: "invoices/notes/readme.txt", data: Buffer.from("hello\n"), type: "text/plain" },
      { name: "invoices/blob.bin", data: big, type: "application/octet-stream" },
      { name: "invoices/.DS_Store", data: Buffer.from("junk") },
    ]);
    const res = await upload("", body);
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(res.json).toMatchObject({ name: "invoices", format: "files", record_count: 4, size_bytes: PDF.length + PNG.length + 6 + big.length });
    const records = await call("GET", "/api/datasets/[id]/records", { params: { id: res.json.id } });
    expect(records.json.items.map((r: { data: unknown }) => r.data)).toEqual([
      { id: "invoices/inv-001.pdf", filename: "inv-001.pdf", content_type: "application/pdf", bytes: PDF.length, sha256: sha(PDF) },
      { id: "invoices/scan.png", filename: "scan.png", content_type: "image/png", bytes: PNG.length, sha256: sha(PNG) },
      { id: "invoices/notes/readme.txt", filename: "readme.txt", content_type: "text/plain", bytes: 6, sha256: sha(Buffer.from("hello\n")) },
      { id: "invoices/blob.bin", filename: "blob.bin", content_type: "application/octet-stream", bytes: big.length, sha256: sha(big) },
    ]);
    const { rows } = await getPool().query("SELECT count(*)::int AS n, max(length(data))::int AS largest FROM dataset_files WHERE dataset_id = $1", [res.json.id]);
    expect(rows[0]).toEqual({ n: 3 + 3, largest: 256 * 1024 }); // 700 KiB in three chunks of at most 256 KiB
    const got = await download("invoices", "invoices/blob.bin");
    expect(got.status).toBe(200);
    expect(got.headers.get("content-type")).toBe("application/octet-stream");
    const pdf = await call("GET", "/api/datasets/[id]/file", { params: { id: "invoices" }, query: "record_id=invoices%2Finv-001.pdf" });
    expect(pdf.headers.get("content-type")).toBe("application/pdf");
    expect(pdf.json).toBe(PDF.toString());
    expect((await download("invoices", "nope.pdf")).status).toBe(404);
  });

  it("compares downloaded bytes exactly, across chunk edges", async () => {
    const data = Buffer.alloc(600 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) % 256;
    const res = await upload("name=bytes", await multipart({}, [{ name: "a.bin", data }]));
    expect(res.status).toBe(201);
    const { rows } = await getPool().query("SELECT string_agg(encode(data, 'hex'), '' ORDER BY chunk) AS hex FROM dataset_files WHERE dataset_id = $1", [res.json.id]);
    expect(rows[0].hex).toBe(data.toString("hex"));
    const { openDatasetFile } = await import("@/lib/datasets/files");
    const { body } = await openDatasetFile("bytes", "a.bin");
    const parts: Buffer[] = [];
    const reader = body.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(Buffer.from(r.value));
    expect(Buffer.concat(parts).equals(data)).toBe(true);
  });

  it("unpacks one zip entry by entry, skipping folders and __MACOSX, named by its paths", async () => {
    const zip = await zipOf([
      { name: "batch/inv-001.pdf", data: PDF },
      { name: "batch/sub/inv-002.pdf", data: PDF },
      { name: "__MACOSX/batch/._inv-001.pdf", data: "resource fork" },
    ]);
    const res = await upload("", await multipart({ name: "zipped" }, [{ name: "invoices.zip", data: zip, type: "application/zip", field: "file" }]));
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    expect(res.json).toMatchObject({ name: "zipped", format: "files", record_count: 2 });
    const records = await call("GET", "/api/datasets/[id]/records", { params: { id: "zipped" } });
    expect(records.json.items.map((r: { record_id: string }) => r.record_id)).toEqual(["batch/inv-001.pdf", "batch/sub/inv-002.pdf"]);
    // a raw zip body with ?name= works too
    const raw = await upload("name=raw-zip", { contentType: "application/zip", body: zip });
    expect(raw.status).toBe(201);
    expect(raw.json.record_count).toBe(2);
  });

  it("keeps one CSV upload a dataset of its rows, and refuses a second file after it rather than drop it", async () => {
    const csv = await upload("", await multipart({ name: "rows" }, [{ name: "rows.csv", data: Buffer.from("id,text\n1,a\n"), field: "file" }]));
    expect(csv.status).toBe(201);
    expect(csv.json).toMatchObject({ format: "csv", record_count: 1 });
    const two = await upload("", await multipart({ name: "two" }, [{ name: "a.csv", data: Buffer.from("id\n1\n") }, { name: "b.pdf", data: PDF }]));
    expect(two.status).toBe(422);
    expect(two.json.error.message).toContain("format=files");
    const asFiles = await upload("format=files", await multipart({ name: "two" }, [{ name: "a.csv", data: Buffer.from("id\n1\n") }, { name: "b.pdf", data: PDF }]));
    expect(asFiles.status).toBe(201);
    expect(asFiles.json).toMatchObject({ format: "files", record_count: 2 });
  });
});

describe("bad files are refused whole, naming the file", () => {
  const cases: [string, () => Promise<{ contentType: string; body: Buffer }>, number, string][] = [
    [
      "a file over the per-file limit",
      () => multipart({ name: "big" }, [{ name: "ok.pdf", data: PDF }, { name: "huge.bin", data: Buffer.alloc(4 * 1024 * 1024 + 1) }]),
      413,
      '"huge.bin"',
    ],
    [
      "files over the dataset's bytes",
      () => multipart({ name: "total" }, [0, 1, 2].map((i) => ({ name: `part-${i}.bin`, data: Buffer.alloc(3 * 1024 * 1024, i) }))),
      413,
      '"part-2.bin"',
    ],
    ["more files than a dataset may hold", () => multipart({ name: "many" }, [1, 2, 3, 4, 5, 6].map((i) => ({ name: `f${i}.txt`, data: Buffer.from("x") }))), 422, '"f6.txt"'],
    ["two files with one path", () => multipart({ name: "dup" }, [{ name: "a/x.txt", data: Buffer.from("1") }, { name: "a/x.txt", data: Buffer.from("2") }]), 422, '"a/x.txt"'],
    ["a folder path climbing out of the root", () => multipart({ name: "climb" }, [{ name: "ok.txt", data: Buffer.from("1") }, { name: "../etc/passwd", data: Buffer.from("2") }]), 422, '"../etc/passwd"'],
    [
      "a zip entry climbing out of the root",
      async () => multipart({ name: "zip-climb" }, [{ name: "evil.zip", data: handMadeZip([{ name: "ok.txt", data: "fine" }, { name: "../../evil.sh", data: "rm -rf" }]), field: "file" }]),
      422,
      "evil.zip/../../evil.sh",
    ],
    [
      "a zip entry with an absolute path",
      async () => multipart({ name: "zip-abs" }, [{ name: "abs.zip", data: handMadeZip([{ name: "/etc/cron.d/x", data: "x" }]), field: "file" }]),
      422,
      "abs.zip//etc/cron.d/x",
    ],
    [
      "a zip with more entries than allowed",
      async () => multipart({ name: "zip-many" }, [{ name: "many.zip", data: await zipOf([1, 2, 3, 4, 5, 6].map((i) => ({ name: `f${i}.txt`, data: "x" }))), field: "file" }]),
      422,
      '"many.zip"',
    ],
    [
      "a zip bomb (an entry unpacking to a thousand times its size)",
      async () => multipart({ name: "bomb" }, [{ name: "bomb.zip", data: handMadeZip([{ name: "zeros.bin", data: Buffer.alloc(3 * 1024 * 1024), deflate: true }]), field: "file" }]),
      422,
      "bomb.zip/zeros.bin",
    ],
    [
      "a zip entry over the per-file limit",
      async () => multipart({ name: "zip-big" }, [{ name: "big.zip", data: handMadeZip([{ name: "big.bin", data: Buffer.alloc(4 * 1024 * 1024 + 1, 1) }]), field: "file" }]),
      413,
      "big.zip/big.bin",
    ],
    ["a file that is not a zip", async () => multipart({ name: "not-zip" }, [{ name: "broken.zip", data: Buffer.from("PK not really"), field: "file" }]), 422, '"broken.zip"'],
  ];
  for (const [what, make, status, names] of cases) {
    it(`refuses ${what}`, async () => {
      const before = await leftovers();
      const res = await upload("", await make());
      expect(res.status, JSON.stringify(res.json)).toBe(status);
      expect(Object.keys(res.json)).toEqual(["error"]);
      expect(res.json.error.message).toContain(names);
      expect(res.json.error.details[0]).toMatchObject({ path: "file" });
      expect(await leftovers()).toEqual(before);
    });
  }

  it("deleting a dataset of files deletes its files' bytes", async () => {
    const before = await leftovers();
    const res = await upload("", await multipart({ name: "gone" }, [{ name: "a.pdf", data: PDF }, { name: "b.pdf", data: PDF }]));
    expect(res.status).toBe(201);
    expect((await leftovers()).chunks).toBe(before.chunks + 2);
    expect((await call("DELETE", "/api/datasets/[id]", { params: { id: "gone" } })).status).toBe(204);
    expect(await leftovers()).toEqual(before);
  });
});
