import { describe, expect, it } from "vitest";
import { multipartBoundary, parseMultipartUpload } from "./parse-upload";

const BOUNDARY = "----bb1234";

function body(parts: string): string {
  return parts.replace(/\n/g, "\r\n");
}

/** The body as a stream of `size`-byte chunks, so boundaries straddle chunk edges. */
function chunked(text: string, size: number): ReadableStream<Uint8Array> {
  const bytes = Buffer.from(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(new Uint8Array(bytes.subarray(at, at + size)));
      at += size;
    },
  });
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts).toString();
}

const FILE = 'id,text\n1,"a\r\n--not-the-boundary"\n2,b\n';
const FORM = body(`preamble
--${BOUNDARY}
Content-Disposition: form-data; name="name"

my dataset
--${BOUNDARY}
Content-Disposition: form-data; name="file"; filename="people.csv"
Content-Type: text/csv

`) + FILE + body(`
--${BOUNDARY}
Content-Disposition: form-data; name="after"

ignored
--${BOUNDARY}--
`);

describe("parseMultipartUpload", () => {
  it.each([1, 3, 7, 64, 100_000])("streams the file part exactly with %i-byte chunks", async (size) => {
    const { fields, file } = await parseMultipartUpload(chunked(FORM, size), BOUNDARY);
    expect(fields).toEqual({ name: "my dataset" });
    expect(file).toMatchObject({ filename: "people.csv", contentType: "text/csv" });
    expect(await collect(file!.body)).toBe(FILE);
  });

  it.each([1, 5, 100_000])("reads the fields after the file once it has been read (%i-byte chunks)", async (size) => {
    const upload = await parseMultipartUpload(chunked(FORM, size), BOUNDARY);
    await expect(upload.fieldsAfter()).rejects.toThrow(/before the file part was read/);
    expect(await collect(upload.file!.body)).toBe(FILE);
    expect(await upload.fieldsAfter()).toEqual({ after: "ignored" });
  });

  it("returns no file when the form has none", async () => {
    const form = body(`--${BOUNDARY}\nContent-Disposition: form-data; name="name"\n\nx\n--${BOUNDARY}--\n`);
    const { fields, file } = await parseMultipartUpload(chunked(form, 5), BOUNDARY);
    expect(fields).toEqual({ name: "x" });
    expect(file).toBeNull();
  });

  it("refuses a file part that never reaches its closing boundary", async () => {
    const form = body(`--${BOUNDARY}\nContent-Disposition: form-data; name="file"; filename="a.csv"\n\nid\n1\n`);
    const { file } = await parseMultipartUpload(chunked(form, 4), BOUNDARY);
    await expect(collect(file!.body)).rejects.toMatchObject({ code: "bad_request" });
  });

  it("refuses a body without the boundary", async () => {
    await expect(parseMultipartUpload(chunked("no multipart here", 4), BOUNDARY)).rejects.toMatchObject({ code: "bad_request" });
  });

  it("reads the boundary from the Content-Type, quoted or not", () => {
    expect(multipartBoundary(`multipart/form-data; boundary=${BOUNDARY}`)).toBe(BOUNDARY);
    expect(multipartBoundary(`multipart/form-data; boundary="${BOUNDARY}"; charset=utf-8`)).toBe(BOUNDARY);
    expect(multipartBoundary("multipart/form-data")).toBeNull();
  });
});
