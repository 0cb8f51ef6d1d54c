// A zip written as it goes: each entry's bytes are returned for the caller to send at once, and the
// central directory, which grows with the entry count, is kept in 1 MiB pieces spilled to a
// temporary file, so memory stays bounded whatever the number of entries. ZIP64 records are added
// when the count or the offsets pass the classic format's limits.
import { createHash } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { crc32, deflateRawSync } from "node:zlib";

const CHUNK = 1 << 20;
const U16 = 0xffff;
const U32 = 0xffffffff;
const UTF8_NAMES = 0x0800;

function dosDateTime(d: Date): { date: number; time: number } {
  const year = Math.max(1980, d.getUTCFullYear());
  return {
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
  };
}

export class ZipWriter {
  private offset = 0;
  private count = 0;
  private readonly stamp: { date: number; time: number };
  private dir = Buffer.alloc(CHUNK);
  private dirUsed = 0;
  private dirSpilled = 0;
  private spill: { dir: string; fd: number } | null = null;

  constructor(now = new Date()) {
    this.stamp = dosDateTime(now);
  }

  /** The bytes of one entry (deflated when that makes it smaller). */
  entry(name: string, data: Buffer): Buffer {
    const nameBytes = Buffer.from(name, "utf8");
    const deflated = deflateRawSync(data);
    const store = deflated.length >= data.length;
    const body = store ? data : deflated;
    const crc = crc32(data);
    const method = store ? 0 : 8;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(UTF8_NAMES, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(this.stamp.time, 10);
    local.writeUInt16LE(this.stamp.date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);

    const zip64Offset = this.offset >= U32;
    const central = Buffer.alloc(46 + (zip64Offset ? 12 : 0));
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(zip64Offset ? 45 : 20, 4);
    central.writeUInt16LE(zip64Offset ? 45 : 20, 6);
    central.writeUInt16LE(UTF8_NAMES, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(this.stamp.time, 12);
    central.writeUInt16LE(this.stamp.date, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt16LE(zip64Offset ? 12 : 0, 30);
    central.writeUInt32LE(zip64Offset ? U32 : this.offset, 42);
    if (zip64Offset) {
      central.writeUInt16LE(0x0001, 46);
      central.writeUInt16LE(8, 48);
      central.writeBigUInt64LE(BigInt(this.offset), 50);
    }
    // the extra field goes after the name
    this.keep(zip64Offset ? Buffer.concat([central.subarray(0, 46), nameBytes, central.subarray(46)]) : Buffer.concat([central, nameBytes]));
    this.count++;
    const out = Buffer.concat([local, nameBytes, body]);
    this.offset += out.length;
    return out;
  }

  private keep(record: Buffer) {
    if (this.dirUsed + record.length > this.dir.length) this.flushDir();
    if (record.length > this.dir.length) this.dir = Buffer.alloc(record.length);
    record.copy(this.dir, this.dirUsed);
    this.dirUsed += record.length;
  }

  private flushDir() {
    if (this.dirUsed === 0) return;
    if (!this.spill) {
      const dir = mkdtempSync(path.join(tmpdir(), "batchboard-zip-"));
      this.spill = { dir, fd: openSync(path.join(dir, "central"), "w+") };
    }
    writeSync(this.spill.fd, this.dir, 0, this.dirUsed);
    this.dirSpilled += this.dirUsed;
    this.dirUsed = 0;
  }

  /** The central directory and the end records, a piece at a time; the writer is closed after. */
  *finish(): Generator<Buffer> {
    try {
      const dirStart = this.offset;
      if (this.spill) {
        const piece = Buffer.alloc(CHUNK);
        for (let at = 0; at < this.dirSpilled; ) {
          const n = readSync(this.spill.fd, piece, 0, Math.min(CHUNK, this.dirSpilled - at), at);
          at += n;
          yield Buffer.from(piece.subarray(0, n));
        }
      }
      if (this.dirUsed) yield Buffer.from(this.dir.subarray(0, this.dirUsed));
      const dirSize = this.dirSpilled + this.dirUsed;
      const dirEnd = dirStart + dirSize;
      const needs64 = this.count >= U16 || dirStart >= U32 || dirSize >= U32;
      if (needs64) {
        const eocd64 = Buffer.alloc(56);
        eocd64.writeUInt32LE(0x06064b50, 0);
        eocd64.writeBigUInt64LE(44n, 4);
        eocd64.writeUInt16LE(45, 12);
        eocd64.writeUInt16LE(45, 14);
        eocd64.writeBigUInt64LE(BigInt(this.count), 24);
        eocd64.writeBigUInt64LE(BigInt(this.count), 32);
        eocd64.writeBigUInt64LE(BigInt(dirSize), 40);
        eocd64.writeBigUInt64LE(BigInt(dirStart), 48);
        const locator = Buffer.alloc(20);
        locator.writeUInt32LE(0x07064b50, 0);
        locator.writeBigUInt64LE(BigInt(dirEnd), 8);
        locator.writeUInt32LE(1, 16);
        yield Buffer.concat([eocd64, locator]);
      }
      const end = Buffer.alloc(22);
      end.writeUInt32LE(0x06054b50, 0);
      end.writeUInt16LE(Math.min(this.count, U16), 8);
      end.writeUInt16LE(Math.min(this.count, U16), 10);
      end.writeUInt32LE(Math.min(dirSize, U32), 12);
      end.writeUInt32LE(Math.min(dirStart, U32), 16);
      yield end;
    } finally {
      this.close();
    }
  }

  /** Drops the spilled directory (also when the download is abandoned). */
  close() {
    if (!this.spill) return;
    closeSync(this.spill.fd);
    rmSync(this.spill.dir, { recursive: true, force: true });
    this.spill = null;
  }
}

/**
 * A record id as a file name: characters a file system or an unzip tool would read as a path or
 * reject are written %XX (and so is %, so two ids never share a name); "." and ".." cannot occur,
 * and a name too long for a file system is cut, with a hash of the id to keep it unique.
 */
export function safeFileName(id: string, ext = ""): string {
  let name = id.replace(/[%/\\:*?"<>|\u0000-\u001f\u007f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
  name = name.replace(/^\.+/, (dots) => "%2E".repeat(dots.length));
  if (name === "") name = "%00empty";
  if (Buffer.byteLength(name) + ext.length > 200) {
    const hash = createHash("sha256").update(id).digest("hex").slice(0, 16);
    let cut = "";
    for (const ch of name) {
      if (Buffer.byteLength(cut + ch) > 160) break;
      cut += ch;
    }
    name = `${cut.replace(/%[0-9A-F]?$/, "")}~${hash}`;
  }
  return `${name}${ext}`;
}
