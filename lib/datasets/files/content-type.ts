// What a file is, for a dataset of files: the bytes' own signature first (a PDF named .txt is a PDF),
// then the file name's extension, then what the client declared, else application/octet-stream.

const EXTENSIONS: Record<string, string> = {
  pdf: "application/pdf",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  txt: "text/plain",
  text: "text/plain",
  md: "text/markdown",
  markdown: "text/markdown",
  csv: "text/csv",
  tsv: "text/tab-separated-values",
  html: "text/html",
  htm: "text/html",
  xml: "application/xml",
  json: "application/json",
  jsonl: "application/x-ndjson",
  ndjson: "application/x-ndjson",
  yaml: "application/yaml",
  yml: "application/yaml",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  zip: "application/zip",
};

const GENERIC = new Set(["", "application/octet-stream", "binary/octet-stream", "application/unknown"]);

function sniff(head: Uint8Array): string | null {
  const b = Buffer.from(head.buffer, head.byteOffset, Math.min(head.byteLength, 16));
  if (b.subarray(0, 5).toString("latin1") === "%PDF-") return "application/pdf";
  if (b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return "image/png";
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
  if (/^GIF8[79]a/.test(b.subarray(0, 6).toString("latin1"))) return "image/gif";
  if (b.subarray(0, 4).toString("latin1") === "RIFF" && b.subarray(8, 12).toString("latin1") === "WEBP") return "image/webp";
  return null;
}

/** The media type of a file from its first bytes, its name and the type a client declared. */
export function detectContentType(filename: string, declared: string | null, head: Uint8Array): string {
  const sniffed = sniff(head);
  if (sniffed) return sniffed;
  const ext = /\.([A-Za-z0-9]+)$/.exec(filename)?.[1]?.toLowerCase();
  if (ext && EXTENSIONS[ext]) return EXTENSIONS[ext];
  const type = (declared ?? "").split(";")[0]!.trim().toLowerCase();
  return GENERIC.has(type) || !/^[a-z0-9.+-]+\/[a-z0-9.+-]+$/.test(type) ? "application/octet-stream" : type;
}

/** Whether the type is text a model can be given inline. */
export function isTextType(type: string): boolean {
  return type.startsWith("text/") || ["application/json", "application/x-ndjson", "application/xml", "application/yaml"].includes(type);
}

export function isZipName(filename: string | null | undefined, declared: string | null | undefined): boolean {
  const type = (declared ?? "").split(";")[0]!.trim().toLowerCase();
  return /\.zip$/i.test(filename ?? "") || type === "application/zip" || type === "application/x-zip-compressed";
}
