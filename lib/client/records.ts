// Parses records pasted or loaded into the New batch form: a JSON array, JSONL, CSV with a header
// row, or plain lines (one string record per line). Errors carry the wire's "records.N" paths.

export type RecordsFormat = "auto" | "json" | "jsonl" | "csv" | "lines";

export type ParsedRecords =
  | { ok: true; records: unknown[]; format: Exclude<RecordsFormat, "auto"> }
  | { ok: false; path: string; message: string };

export function detectFormat(text: string): Exclude<RecordsFormat, "auto"> {
  const t = text.trimStart();
  if (t.startsWith("[")) return "json";
  const lines = t.split(/\r?\n/).filter((l) => l.trim());
  if (lines.length && lines.every((l) => l.trim().startsWith("{"))) return "jsonl";
  return "lines";
}

export function parseRecords(text: string, format: RecordsFormat = "auto"): ParsedRecords {
  if (!text.trim()) return { ok: false, path: "records", message: "Paste at least one record" };
  const f = format === "auto" ? detectFormat(text) : format;
  if (f === "json") {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return { ok: false, path: "records", message: `Not valid JSON: ${(e as Error).message}` };
    }
    if (!Array.isArray(value)) return { ok: false, path: "records", message: "A JSON source must be an array of records" };
    return { ok: true, records: value, format: f };
  }
  const lines = text.split(/\r?\n/);
  if (f === "jsonl") {
    const records: unknown[] = [];
    for (const [i, line] of lines.entries()) {
      if (!line.trim()) continue;
      try {
        records.push(JSON.parse(line));
      } catch {
        return { ok: false, path: `records.${records.length}`, message: `Line ${i + 1} is not valid JSON` };
      }
    }
    return { ok: true, records, format: f };
  }
  if (f === "csv") {
    const rows = parseCsv(text).filter((r) => r.some((c) => c !== ""));
    const [header, ...body] = rows;
    if (!header) return { ok: false, path: "records", message: "The CSV has no header row" };
    const records = body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ""])));
    return { ok: true, records, format: f };
  }
  return { ok: true, records: lines.map((l) => l.trim()).filter(Boolean), format: f };
}

/** RFC 4180 CSV: quoted fields, doubled quotes, newlines inside quotes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
