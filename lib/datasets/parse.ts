// Streamed parsers for dataset uploads. Each turns a byte stream into records in source order,
// carrying the 1-based source line of each so errors can say "line 17". Records are handed on in
// batches, those completed by one read chunk: a million-line file then costs a thousand async steps
// rather than a million. Nothing here holds more than one read chunk's records in memory.
import { Readable } from "node:stream";
import { parse as parseCsv, type CsvError } from "csv-parse";
import { z } from "zod";
import { jsonNestedDeeperThan, MAX_JSON_DEPTH } from "@/lib/db/storable";
import { AppError } from "@/lib/errors";
import { recordIdOf, recordIdProblem } from "./record-ids";

export type DatasetFormat = "csv" | "jsonl" | "json" | "openai";
export const DATASET_FORMATS = ["csv", "jsonl", "json", "openai"] as const;

export interface ParsedRecord {
  recordId: string;
  data: unknown;
  /** the record as JSON text when the source already had it (saves a stringify) */
  json?: string;
  /** 1-based line the record starts on */
  line: number;
}

export interface ParseOptions {
  /** the field (CSV: column) holding the record id; unset: "id" when present, else generated ids */
  idField?: string;
}

export interface ParseResult {
  /** the records in source order, in batches (never empty) */
  records: AsyncIterable<ParsedRecord[]>;
  /** the id field actually used (null: generated ids), known once the first record is read */
  idField(): string | null;
}

/** A single record's text may not exceed this: a guard against a file that is one endless line. */
export const MAX_RECORD_CHARS = 16 * 1024 * 1024;

export function invalidAt(line: number, message: string): AppError {
  return new AppError("validation_failed", `line ${line}: ${message}`, [{ path: `line ${line}`, message }]);
}

/** Decodes UTF-8 (dropping a BOM), refusing invalid bytes with the line they are near. */
export async function* decodeText(bytes: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let line = 1;
  for await (const chunk of bytes) {
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      throw invalidAt(line, "the file is not valid UTF-8 text");
    }
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) line++;
    if (text) yield text;
  }
  let rest: string;
  try {
    rest = decoder.decode();
  } catch {
    throw invalidAt(line, "the file is not valid UTF-8 text");
  }
  if (rest) yield rest;
}

export interface SourceText {
  text: string;
  /** 1-based line the text starts on */
  line: number;
}

/** Non-blank lines with their 1-based numbers, a batch per text chunk; \r\n and \n both end a line. */
export async function* splitLines(text: AsyncIterable<string>): AsyncGenerator<SourceText[]> {
  let pending = "";
  let line = 1;
  for await (const chunk of text) {
    pending += chunk;
    const lines: SourceText[] = [];
    let start = 0;
    for (let nl = pending.indexOf("\n"); nl !== -1; nl = pending.indexOf("\n", start)) {
      const t = pending.slice(start, nl);
      if (t.trim()) lines.push({ text: t.endsWith("\r") ? t.slice(0, -1) : t, line });
      line++;
      start = nl + 1;
    }
    pending = pending.slice(start);
    if (lines.length) yield lines;
    if (pending.length > MAX_RECORD_CHARS) throw invalidAt(line, `line is longer than ${MAX_RECORD_CHARS} characters`);
  }
  if (pending.trim()) yield [{ text: pending, line }];
}

export function parseJsonAt(text: string, line: number): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalidAt(line, `invalid JSON: ${(err as Error).message}`);
  }
  if (jsonNestedDeeperThan(text)) throw invalidAt(line, `the record nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`);
  return value;
}

/**
 * Resolves the id field on the first record when the caller named none: "id" if that record has
 * it, else generated ids. Later records must then agree.
 */
function idResolver(requested: string | undefined, hasField: (data: unknown, field: string) => boolean) {
  let chosen: string | null | undefined = requested;
  return {
    choose(first: unknown): string | null {
      if (chosen === undefined) chosen = hasField(first, "id") ? "id" : null;
      return chosen;
    },
    get: () => chosen ?? null,
  };
}

const hasObjectField = (data: unknown, field: string) =>
  data !== null && typeof data === "object" && !Array.isArray(data) && field in (data as object);

function idFor(data: unknown, index: number, line: number, idField: string | null): string {
  if (idField === null) return String(index + 1);
  try {
    return recordIdOf(data, index, idField, "records");
  } catch (err) {
    if (err instanceof AppError) throw invalidAt(line, err.details[0]?.message ?? err.message);
    throw err;
  }
}

function parseJsonl(bytes: AsyncIterable<Uint8Array>, options: ParseOptions): ParseResult {
  const ids = idResolver(options.idField, hasObjectField);
  async function* records(): AsyncGenerator<ParsedRecord[]> {
    let index = 0;
    for await (const lines of splitLines(decodeText(bytes))) {
      yield lines.map(({ text, line }) => {
        const data = parseJsonAt(text, line);
        const idField = index === 0 ? ids.choose(data) : ids.get();
        return { recordId: idFor(data, index++, line, idField), data, json: text.trim(), line };
      });
    }
  }
  return { records: records(), idField: ids.get };
}

// One line of the OpenAI Batch API input file: https://platform.openai.com/docs/api-reference/batch
const openAiLineSchema = z.object({
  custom_id: z.string().min(1, "custom_id must not be empty"),
  method: z.string().optional(),
  url: z.string().optional(),
  body: z.record(z.string(), z.unknown()),
});

function parseOpenAiLine({ text, line }: SourceText): ParsedRecord {
  const data = parseJsonAt(text, line);
  const parsed = openAiLineSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length ? `${issue.path.join(".")}: ` : "";
    throw invalidAt(line, `not an OpenAI Batch request line (${field}${issue.message})`);
  }
  const problem = recordIdProblem(parsed.data.custom_id);
  if (problem) throw invalidAt(line, problem);
  return { recordId: parsed.data.custom_id, data, json: text.trim(), line };
}

function parseOpenAi(bytes: AsyncIterable<Uint8Array>): ParseResult {
  async function* records(): AsyncGenerator<ParsedRecord[]> {
    for await (const lines of splitLines(decodeText(bytes))) yield lines.map(parseOpenAiLine);
  }
  return { records: records(), idField: () => "custom_id" };
}

/**
 * Splits a top-level JSON array into its elements, a batch per text chunk, without holding the whole
 * document: a small scanner tracks strings and nesting, and each element is JSON.parse'd on its own.
 */
async function* splitJsonArray(text: AsyncIterable<string>): AsyncGenerator<SourceText[]> {
  let state: "before" | "inside" | "after" = "before";
  let line = 1;
  let elem = "";
  let elemLine = 0;
  let inElem = false;
  let depth = 0;
  let inString = false;
  let escape = false;
  let afterComma = false;
  let count = 0;
  for await (const chunk of text) {
    const elements: SourceText[] = [];
    try {
      let segStart = inElem ? 0 : -1;
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk.charCodeAt(i);
        if (c === 10) line++;
        if (state === "before") {
          if (c === 91 /* [ */) state = "inside";
          else if (!isJsonSpace(c)) throw invalidAt(line, "expected a JSON array ([ … ]) of records");
          continue;
        }
        if (state === "after") {
          if (!isJsonSpace(c)) throw invalidAt(line, "unexpected content after the closing ]");
          continue;
        }
        if (inString) {
          if (escape) escape = false;
          else if (c === 92 /* \ */) escape = true;
          else if (c === 34 /* " */) inString = false;
          continue;
        }
        if (depth === 0 && (c === 44 /* , */ || c === 93) /* ] */) {
          if (inElem) {
            elem += chunk.slice(segStart, i);
            segStart = -1;
            elements.push({ text: elem, line: elemLine });
            count++;
            elem = "";
            inElem = false;
          } else if (c === 44 || afterComma) {
            throw invalidAt(line, c === 44 ? "unexpected , (missing value)" : "trailing comma before ]");
          } else if (count > 0) {
            throw invalidAt(line, "unexpected ]");
          }
          afterComma = c === 44;
          if (c === 93) state = "after";
          continue;
        }
        if (!inElem) {
          if (isJsonSpace(c)) continue;
          inElem = true;
          elemLine = line;
          segStart = i;
          afterComma = false;
        }
        if (c === 34) inString = true;
        else if (c === 123 || c === 91) depth++;
        else if (c === 125 || c === 93) depth--;
      }
      if (inElem) elem += chunk.slice(segStart);
      if (elem.length > MAX_RECORD_CHARS) throw invalidAt(elemLine, `record is larger than ${MAX_RECORD_CHARS} characters`);
    } catch (err) {
      // the elements before the problem go first: an invalid one among them is the error to report
      if (elements.length) yield elements;
      throw err;
    }
    if (elements.length) yield elements;
  }
  if (state === "before") throw invalidAt(line, "expected a JSON array ([ … ]) of records");
  if (state === "inside") throw invalidAt(line, "unexpected end of file: the array is not closed with ]");
}

const isJsonSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;

function parseJsonArray(bytes: AsyncIterable<Uint8Array>, options: ParseOptions): ParseResult {
  const ids = idResolver(options.idField, hasObjectField);
  async function* records(): AsyncGenerator<ParsedRecord[]> {
    let index = 0;
    for await (const elements of splitJsonArray(decodeText(bytes))) {
      yield elements.map(({ text, line }) => {
        const data = parseJsonAt(text, line);
        const idField = index === 0 ? ids.choose(data) : ids.get();
        return { recordId: idFor(data, index++, line, idField), data, json: text, line };
      });
    }
  }
  return { records: records(), idField: ids.get };
}

function parseCsvStream(bytes: AsyncIterable<Uint8Array>, options: ParseOptions): ParseResult {
  let header: string[] = [];
  const ids = idResolver(options.idField, (_data, field) => header.includes(field));
  // csv-parse hands records over one at a time: batches of one
  async function* records(): AsyncGenerator<ParsedRecord[]> {
    const parser = parseCsv({
      bom: true,
      columns: (names: string[]) => {
        const seen = new Set<string>();
        names.forEach((raw, i) => {
          const name = String(raw).trim();
          if (!name) throw invalidAt(1, `header column ${i + 1} has no name`);
          if (seen.has(name)) throw invalidAt(1, `header names column ${JSON.stringify(name)} twice`);
          seen.add(name);
        });
        header = [...seen];
        return header;
      },
      skip_empty_lines: true,
      info: true,
      max_record_size: MAX_RECORD_CHARS,
    });
    const source = Readable.from(decodeText(bytes));
    source.on("error", (err) => parser.destroy(err));
    source.pipe(parser);
    let index = 0;
    try {
      for await (const item of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
        const { record, info } = item;
        const idField = index === 0 ? ids.choose(record) : ids.get();
        if (index === 0 && idField !== null && !header.includes(idField)) {
          throw invalidAt(1, `the header has no ${JSON.stringify(idField)} column (columns: ${header.join(", ")})`);
        }
        yield [{ recordId: idFor(record, index, info.lines, idField), data: record, line: info.lines }];
        index++;
      }
    } catch (err) {
      if (err instanceof AppError) throw err;
      const csvErr = err as CsvError & { lines?: number };
      if (csvErr.code && typeof csvErr.lines === "number") throw invalidAt(csvErr.lines, csvErr.message);
      throw err;
    } finally {
      source.destroy();
    }
  }
  return { records: records(), idField: ids.get };
}

export function parseDataset(format: DatasetFormat, bytes: AsyncIterable<Uint8Array>, options: ParseOptions = {}): ParseResult {
  switch (format) {
    case "csv":
      return parseCsvStream(bytes, options);
    case "jsonl":
      return parseJsonl(bytes, options);
    case "json":
      return parseJsonArray(bytes, options);
    case "openai":
      return parseOpenAi(bytes);
  }
}
