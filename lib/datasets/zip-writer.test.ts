// The streaming zip writer: read back by yauzl (CRCs and sizes checked), ZIP64 past 65,535 entries
// with the directory spilled to a temporary file, and record ids made safe as file names.
import { describe, expect, it } from "vitest";
import { unzip } from "@/test/helpers/zip";
import { safeFileName, ZipWriter } from "./zip-writer";

function write(entries: [string, string][]): Buffer {
  const zip = new ZipWriter(new Date("2026-12-01T10:00:00Z"));
  const parts = entries.map(([name, data]) => zip.entry(name, Buffer.from(data)));
  return Buffer.concat([...parts, ...zip.finish()]);
}

describe("ZipWriter", () => {
  it("writes entries yauzl reads back byte for byte, stored or deflated", async () => {
    const big = "compressible ".repeat(1000);
    const files = await unzip(write([["a.json", "{}"], ["dir/b.txt", big], ["ü.txt", "x"]]));
    expect([...files.keys()]).toEqual(["a.json", "dir/b.txt", "ü.txt"]);
    expect(files.get("dir/b.txt")!.toString()).toBe(big);
    expect(files.get("a.json")!.toString()).toBe("{}");
  });

  it("an empty zip is a valid zip", async () => {
    expect((await unzip(write([]))).size).toBe(0);
  });

  it("past 65,535 entries it writes ZIP64 end records, its directory spilled to disk and read back", async () => {
    const n = 70_000;
    const zip = new ZipWriter();
    const parts: Buffer[] = [];
    for (let i = 0; i < n; i++) parts.push(zip.entry(`e/${i}.json`, Buffer.from(String(i))));
    const buffer = Buffer.concat([...parts, ...zip.finish()]);
    const files = await unzip(buffer);
    expect(files.size).toBe(n);
    expect(files.get("e/69999.json")!.toString()).toBe("69999");
    expect(buffer.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true);
  }, 60_000);
});

describe("safeFileName", () => {
  it("keeps plain ids, and writes path characters and % as %XX so no two ids share a name", () => {
    expect(safeFileName("rev-0001", ".json")).toBe("rev-0001.json");
    expect(safeFileName("a/b", ".json")).toBe("a%2Fb.json");
    expect(safeFileName("a%2Fb", ".json")).toBe("a%252Fb.json");
    expect(safeFileName("..\\..\\etc", ".json")).toBe("%2E%2E%5C..%5Cetc.json");
    expect(safeFileName("../../etc/passwd")).toBe("%2E%2E%2F..%2Fetc%2Fpasswd");
    expect(safeFileName("..")).toBe("%2E%2E");
    expect(safeFileName(".")).toBe("%2E");
    expect(safeFileName("")).toBe("%00empty");
    expect(safeFileName("tab\there")).toBe("tab%09here");
    expect(safeFileName("ü ñ")).toBe("ü ñ");
  });

  it("cuts a long id, keeping it unique with a hash", () => {
    const a = safeFileName(`${"x".repeat(400)}a`, ".json");
    const b = safeFileName(`${"x".repeat(400)}b`, ".json");
    expect(a).not.toBe(b);
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(200);
    expect(a).toMatch(/^x{160}~[0-9a-f]{16}\.json$/);
    expect(Buffer.byteLength(safeFileName("é".repeat(300)))).toBeLessThanOrEqual(200);
  });
});
