// Streaming multipart/form-data for dataset uploads: small text fields before the file are
// collected, the "file" part is handed on as a byte stream (never buffered whole), and the small
// fields after it can be read once the file has been (`fieldsAfter()`: some clients, the OpenAI
// SDK among them, send the file first). request.formData() would hold the whole upload in memory.
import { AppError } from "@/lib/errors";

export interface MultipartUpload {
  fields: Record<string, string>;
  file: { filename: string | null; contentType: string | null; body: AsyncIterable<Uint8Array> } | null;
  /** the fields after the file part, read once its body has been read to the end; then the body is done */
  fieldsAfter(): Promise<Record<string, string>>;
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

export async function parseMultipartUpload(body: ReadableStream<Uint8Array>, boundary: string, fileField = "file"): Promise<MultipartUpload> {
  const reader = body.getReader();
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // a leading CRLF lets the first boundary match the same delimiter as the others
  let buf: Buffer = Buffer.from("\r\n");
  let ended = false;

  const more = async (): Promise<boolean> => {
    if (ended) return false;
    const { done, value } = await reader.read();
    if (done) {
      ended = true;
      return false;
    }
    buf = buf.length ? Buffer.concat([buf, value]) : Buffer.from(value);
    return true;
  };

  // skip the preamble up to the first delimiter
  for (;;) {
    const at = buf.indexOf(delimiter);
    if (at >= 0) {
      buf = buf.subarray(at);
      break;
    }
    if (buf.length > delimiter.length) buf = buf.subarray(buf.length - delimiter.length);
    if (!(await more())) throw malformed("no boundary found");
  }

  let currentName = "";
  /** Reads the next part's headers (buf then holds its body); null at the closing delimiter. */
  const nextPart = async (): Promise<{ name: string; filename: string | null; contentType: string | null } | null> => {
    // buf starts with the delimiter: "--" ends the body, CRLF starts a part
    while (buf.length < delimiter.length + 2) if (!(await more())) throw malformed("truncated");
    const after = buf.subarray(delimiter.length, delimiter.length + 2).toString("latin1");
    if (after === "--") return null;
    buf = buf.subarray(delimiter.length + 2);
    let headerEnd: number;
    while ((headerEnd = buf.indexOf(CRLFCRLF)) < 0) {
      if (buf.length > MAX_HEADER_BYTES) throw malformed("part headers too long");
      if (!(await more())) throw malformed("truncated part headers");
    }
    const headers = buf.subarray(0, headerEnd).toString("utf8");
    buf = buf.subarray(headerEnd + 4);
    const disposition = /^content-disposition:(.*)$/im.exec(headers)?.[1] ?? "";
    currentName = /\bname="([^"]*)"/i.exec(disposition)?.[1] ?? "";
    return {
      name: currentName,
      filename: /\bfilename="([^"]*)"/i.exec(disposition)?.[1] ?? null,
      contentType: /^content-type:\s*(.*)$/im.exec(headers)?.[1]?.trim() ?? null,
    };
  };
  /** Reads the current part's body as a small text field into `into`. */
  const readField = async (into: Record<string, string>) => {
    let end: number;
    while ((end = buf.indexOf(delimiter)) < 0) {
      if (buf.length > MAX_FIELD_BYTES) throw malformed(`field ${JSON.stringify(currentName)} is too long`);
      if (!(await more())) throw malformed("truncated field");
    }
    if (currentName) into[currentName] = buf.subarray(0, end).toString("utf8");
    buf = buf.subarray(end);
  };

  const fields: Record<string, string> = {};
  for (;;) {
    const part = await nextPart();
    if (!part) break;
    const { name, filename, contentType } = part;

    if (name === fileField) {
      let fileEnded = false;
      async function* fileBytes(): AsyncGenerator<Uint8Array> {
        try {
          for (;;) {
            const at = buf.indexOf(delimiter);
            if (at >= 0) {
              if (at > 0) yield buf.subarray(0, at);
              buf = buf.subarray(at);
              fileEnded = true;
              return;
            }
            // keep a tail that could be the start of the delimiter
            const safe = buf.length - (delimiter.length - 1);
            if (safe > 0) {
              const out = buf.subarray(0, safe);
              buf = buf.subarray(safe);
              yield out;
            }
            if (!(await more())) throw malformed("the file part is not terminated by the boundary");
          }
        } finally {
          if (!fileEnded) await reader.cancel().catch(() => {});
        }
      }
      const fieldsAfter = async () => {
        if (!fileEnded) throw new Error("fieldsAfter() before the file part was read to its end");
        const after: Record<string, string> = {};
        try {
          while (await nextPart()) await readField(after);
        } finally {
          await reader.cancel().catch(() => {});
        }
        return after;
      };
      return { fields, file: { filename, contentType, body: fileBytes() }, fieldsAfter };
    }
    await readField(fields);
  }
  await reader.cancel().catch(() => {});
  return { fields, file: null, fieldsAfter: async () => ({}) };
}
