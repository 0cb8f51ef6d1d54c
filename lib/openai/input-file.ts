// Reading an uploaded Batch input file (JSONL of {custom_id, method, url, body}) as OpenAI does:
// the upload is accepted, and what is wrong with a line is noted for the batch created from it,
// which then fails naming each line. Well-formed requests become the dataset's records (custom_id
// as the record id); a line that is not one is set aside. Memory is bounded by MAX_REQUESTS ids.
import { jsonNestedDeeperThan } from "@/lib/db/storable";
import { decodeText, splitLines, type ParsedRecord, type ParseResult } from "@/lib/datasets/parse";
import { recordIdProblem } from "@/lib/datasets/record-ids";

/** OpenAI's limit of requests in one batch; lines past it are counted, not stored. */
export const MAX_REQUESTS = 50_000;
/** problems stored per file (the count goes on) */
export const MAX_PROBLEMS = 1000;

/** OpenAI's BatchError: what is wrong, where. */
export interface LineProblem {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

export interface InputFileSummary {
  /** non-blank lines */
  lineCount: number;
  problems: LineProblem[];
  problemCount: number;
  /** [position, line] where a stored record's line stops being position + 1 */
  lineBreaks: [number, number][];
}

const problem = (code: string, message: string, param: string | null, line: number): LineProblem => ({ code, message, param, line });

/** Why `text` (one line) is not a request, or the request. */
function checkLine(text: string, line: number, seen: Set<string>): LineProblem | { customId: string; data: Record<string, unknown> } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return problem("invalid_json_line", "This line is not parseable as valid JSON.", null, line);
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return problem("invalid_json_line", "This line is not a JSON object.", null, line);
  }
  if (jsonNestedDeeperThan(text)) return problem("invalid_json_line", "This line nests arrays and objects too deeply.", null, line);
  const req = data as Record<string, unknown>;
  for (const field of ["custom_id", "method", "url", "body"]) {
    if (req[field] === undefined || req[field] === null) {
      return problem("missing_required_parameter", `Missing required parameter: '${field}'.`, field, line);
    }
  }
  if (typeof req.custom_id !== "string" || req.custom_id === "") {
    return problem("invalid_type", "custom_id must be a non-empty string.", "custom_id", line);
  }
  const idProblem = recordIdProblem(req.custom_id);
  if (idProblem) return problem("invalid_value", `custom_id: ${idProblem}.`, "custom_id", line);
  if (req.method !== "POST") return problem("invalid_value", "Only the POST method is supported.", "method", line);
  if (typeof req.url !== "string") return problem("invalid_type", "url must be a string.", "url", line);
  if (typeof req.body !== "object" || Array.isArray(req.body)) return problem("invalid_type", "body must be a JSON object.", "body", line);
  if (seen.has(req.custom_id)) {
    return problem(
      "duplicate_custom_id",
      "The custom_id for this request is a duplicate of another request. The custom_id parameter must be unique for each request in a batch.",
      "custom_id",
      line,
    );
  }
  return { customId: req.custom_id, data: req };
}

/** A parser for importDataset (lib/datasets) that sets lines aside instead of refusing the file. */
export function inputFileParser(): { parse: (bytes: AsyncIterable<Uint8Array>) => ParseResult; summary: () => InputFileSummary } {
  const summary: InputFileSummary = { lineCount: 0, problems: [], problemCount: 0, lineBreaks: [] };
  const seen = new Set<string>();
  let position = 0;
  let offset = 1; // a stored record's line is position + offset until a line is set aside
  async function* records(bytes: AsyncIterable<Uint8Array>): AsyncGenerator<ParsedRecord[]> {
    for await (const lines of splitLines(decodeText(bytes))) {
      const batch: ParsedRecord[] = [];
      for (const { text, line } of lines) {
        summary.lineCount++;
        if (summary.lineCount > MAX_REQUESTS) continue;
        const checked = checkLine(text, line, seen);
        if ("code" in checked) {
          summary.problemCount++;
          if (summary.problems.length < MAX_PROBLEMS) summary.problems.push(checked);
          continue;
        }
        seen.add(checked.customId);
        if (line !== position + offset) {
          offset = line - position;
          summary.lineBreaks.push([position, line]);
        }
        batch.push({ recordId: checked.customId, data: checked.data, json: text.trim(), line });
        position++;
      }
      if (batch.length) yield batch;
    }
  }
  return { parse: (bytes) => ({ records: records(bytes), idField: () => "custom_id" }), summary: () => summary };
}

/** The 1-based line of the record at `position`, from a file's line breaks. */
export function lineOf(position: number, lineBreaks: readonly (readonly [number, number])[]): number {
  let line = position + 1;
  for (const [p, l] of lineBreaks) {
    if (p > position) break;
    line = l + (position - p);
  }
  return line;
}
