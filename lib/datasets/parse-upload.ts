// Streaming multipart/form-data for uploads. Small text fields are collected, file parts are handed on
// as byte streams (never buffered whole). parseMultipartUpload serves one-file uploads: the fields
// before the file, the file, and the small fields after it once the file has been read
// (`fieldsAfter()`: some clients, the OpenAI SDK among them, send the file first). multipartParts
// serves uploads of many files: every part in order. request.formData() would hold the whole upload
// in memory.
import { AppError } from "@/lib/errors";

export interface MultipartUpload {
  fields: Record<string, string>;
  file: { filename: string | null; contentType: string | null; body: AsyncIterable<Uint8Array> } | null;
  /** the fields after the file part, read once its body has been read to the end; then the body is done */
  fieldsAfter(): Promise<Record<string, string>>;
}

export interface MultipartPart {
  name: string;
  /** set for a file part (the browser's file name, or the relative path a client gave) */
  filename: string | null;
  contentType: string | null;
  /** the part's bytes; read it to its end (or not at all: the next part skips what is left) */
  body: AsyncIterable<Uint8Array>;
  /** the part as a small text field (at most 64 KiB) */
  text(): Promise<string>;
}

const MAX_HEADER_BYTES = 16 * 1024;
const MAX_FIELD_BYTES = 64 * 1024;
const CRLFCRLF = Buffer.from("\r\n\r\n");

export function multipartBoundary(contentType: string | null): string | null {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? "");
  return m ? (m[1] ?? m[2] ?? null) : null;
}

function malformed(message: string): AppError {
  return new AppError("bad_request", `malformed multipart body: ${message}`, [{ path: "file", message }]);
}

interface PartHeaders {
  name: string;
  filename: string | null;
  contentType: string | null;
}

/** The body as parts: a cursor over the bytes that always sits at a delimiter between parts. */
class MultipartReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly delimiter: Buffer;
  // a leading CRLF lets the first boundary match the same delimiter as the others
  private buf: Buffer = Buffer.from("\r\n");
  private ended = false;
  /** the current part's body has been read up to the next delimiter */
  partDone = true;
  currentName = "";

  constructor(body: ReadableStream<Uint8Array>, boundary: string) {
    this.reader = body.getReader();
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
  }

  private async more(): Promise<boolean> {
    if (this.ended) return false;
    const { done, value } = await this.reader.read();
    if (done) {
      this.ended = true;
      return false;
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, value]) : Buffer.from(value);
    return true;
  }

  cancel(): Promise<void> {
    return this.reader.cancel().catch(() => {});
  }

  /** Skips the preamble up to the first delimiter. */
  async start(): Promise<void> {
    const { delimiter } = this;
    for (;;) {
      const at = this.buf.indexOf(delimiter);
      if (at >= 0) {
        this.buf = this.buf.subarray(at);
        return;
      }
      if (this.buf.length > delimiter.length) this.buf = this.buf.subarray(this.buf.length - delimiter.length);
      if (!(await this.more())) throw malformed("no boundary found");
    }
  }

  /** Reads the next part's headers (the buffer then holds its body); null at the closing delimiter. */
  async nextPart(): Promise<PartHeaders | null> {
    const { delimiter } = this;
    // the buffer starts with the delimiter: "--" ends the body, CRLF starts a part
    while (this.buf.length < delimiter.length + 2) if (!(await this.more())) throw malformed("truncated");
    const after = this.buf.subarray(delimiter.length, delimiter.length + 2).toString("latin1");
    if (after === "--") return null;
    this.buf = this.buf.subarray(delimiter.length + 2);
    let headerEnd: number;
    while ((headerEnd = this.buf.indexOf(CRLFCRLF)) < 0) {
      if (this.buf.length > MAX_HEADER_BYTES) throw malformed("part headers too long");
      if (!(await this.more())) throw malformed("truncated part headers");
    }
    const headers = this.buf.subarray(0, headerEnd).toString("utf8");
    this.buf = this.buf.subarray(headerEnd + 4);
    this.partDone = false;
    const disposition = /^content-disposition:(.*)$/im.exec(headers)?.[1] ?? "";
    this.currentName = /\bname="([^"]*)"/i.exec(disposition)?.[1] ?? "";
    return {
      name: this.currentName,
      filename: /\bfilename="([^"]*)"/i.exec(disposition)?.[1] ?? null,
      contentType: /^content-type:\s*(.*)$/im.exec(headers)?.[1]?.trim() ?? null,
    };
  }

  /** The current part's body as a small text field. */
  async readText(): Promise<string> {
    let end: number;
    while ((end = this.buf.indexOf(this.delimiter)) < 0) {
      if (this.buf.length > MAX_FIELD_BYTES) throw malformed(`field ${JSON.stringify(this.currentName)} is too long`);
      if (!(await this.more())) throw malformed("truncated field");
    }
    const text = this.buf.subarray(0, end).toString("utf8");
    this.buf = this.buf.subarray(end);
    this.partDone = true;
    return text;
  }

  /** The current part's body as byte chunks, up to the next delimiter. */
  async *bytes(): AsyncGenerator<Uint8Array> {
    const { delimiter } = this;
    for (;;) {
      const at = this.buf.indexOf(delimiter);
      if (at >= 0) {
        const out = this.buf.subarray(0, at);
        this.buf = this.buf.subarray(at);
        this.partDone = true;
        if (at > 0) yield out;
        return;
      }
      // keep a tail that could be the start of the delimiter
      const safe = this.buf.length - (delimiter.length - 1);
      if (safe > 0) {
        const out = this.buf.subarray(0, safe);
        this.buf = this.buf.subarray(safe);
        yield out;
      }
      if (!(await this.more())) throw malformed("the file part is not terminated by the boundary");
    }
  }

  /** Reads (and drops) what is left of the current part. */
  async skip(): Promise<void> {
    if (this.partDone) return;
    for await (const chunk of this.bytes()) void chunk;
  }
}

export async function parseMultipartUpload(body: ReadableStream<Uint8Array>, boundary: string, fileField = "file"): Promise<MultipartUpload> {
  const reader = new MultipartReader(body, boundary);
  await reader.start();
  const fields: Record<string, string> = {};
  for (;;) {
    const part = await reader.nextPart();
    if (!part) break;
    if (part.name === fileField) {
      async function* fileBytes(): AsyncGenerator<Uint8Array> {
        try {
          yield* reader.bytes();
        } finally {
          if (!reader.partDone) await reader.cancel();
        }
      }
      const fieldsAfter = async () => {
        if (!reader.partDone) throw new Error("fieldsAfter() before the file part was read to its end");
        const after: Record<string, string> = {};
        try {
          let next: PartHeaders | null;
          while ((next = await reader.nextPart())) {
            const text = await reader.readText();
            if (next.name) after[next.name] = text;
          }
        } finally {
          await reader.cancel();
        }
        return after;
      };
      return { fields, file: { filename: part.filename, contentType: part.contentType, body: fileBytes() }, fieldsAfter };
    }
    const text = await reader.readText();
    if (part.name) fields[part.name] = text;
  }
  await reader.cancel();
  return { fields, file: null, fieldsAfter: async () => ({}) };
}

/**
 * Every part of the body in order. Each part's body must be read (or left) before the next part is
 * asked for: what it left unread is skipped then. Ending the loop early cancels the request body.
 */
export async function* multipartParts(body: ReadableStream<Uint8Array>, boundary: string): AsyncGenerator<MultipartPart> {
  const reader = new MultipartReader(body, boundary);
  try {
    await reader.start();
    for (;;) {
      await reader.skip();
      const part = await reader.nextPart();
      if (!part) return;
      yield { ...part, body: reader.bytes(), text: () => reader.readText() };
    }
  } finally {
    await reader.cancel();
  }
}
