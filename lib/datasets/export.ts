// Result export formats. The OpenAI Batch output format lets people moving from that API keep
// their tooling (and is what /v1 output and error files hold); CSV follows RFC 4180 (CRLF line
// ends, fields quoted when they need it), with formula-like text made inert for spreadsheets.
import type { ResultRow } from "@/lib/contract/results";

export interface OpenAIOutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}

type KeptResponse = NonNullable<OpenAIOutputLine["response"]>;

/** The upstream response a flow kept in its result (`openai`, `llm`: `{ response: {status_code, request_id, body} }`). */
export function keptResponse(result: unknown): KeptResponse | null {
  const r = (result as { response?: unknown } | null)?.response as Partial<KeptResponse> | undefined;
  if (!r || typeof r !== "object" || typeof r.status_code !== "number" || typeof r.request_id !== "string" || !("body" in r)) return null;
  return { status_code: r.status_code, request_id: r.request_id, body: r.body };
}

// OpenAI's wording for requests a batch never ran, by the code the job ended with
const NOT_RUN: Record<string, { code: string; message: string }> = {
  cancelled: { code: "batch_cancelled", message: "This request was not executed because the batch was cancelled." },
  batch_expired: { code: "batch_expired", message: "This request could not be executed before the completion window expired." },
};

/**
 * One line of an OpenAI Batch output file (https://platform.openai.com/docs/api-reference/batch): the
 * upstream response a flow kept, unchanged (failures included: a 4xx keeps its status and body);
 * else a succeeded job becomes a 200 response whose body is the flow's result, and anything else an error.
 */
export function toOpenAIOutputLine(row: ResultRow, batchId: string): OpenAIOutputLine {
  const id = `${batchId}_${row.position}`;
  const kept = keptResponse(row.result);
  if (kept) return { id, custom_id: row.recordId, response: kept, error: null };
  if (row.status === "succeeded") {
    const requestId = `${batchId}:${row.recordId}`;
    return { id, custom_id: row.recordId, response: { status_code: 200, request_id: requestId, body: row.result ?? null }, error: null };
  }
  const error = row.error ?? { code: row.status, message: `job ${row.status}`, retryable: false };
  const notRun = row.status === "cancelled" ? NOT_RUN[error.code] : undefined;
  return { id, custom_id: row.recordId, response: null, error: notRun ?? { code: error.code, message: error.message } };
}

/** The line as JSONL text (with its newline). */
export function openAIOutputLine(row: ResultRow, batchId: string): string {
  return `${JSON.stringify(toOpenAIOutputLine(row, batchId))}\n`;
}

// A spreadsheet reads a cell starting with one of these as a formula (TAB and CR because some skip
// them first); a leading ' makes it text (OWASP's advice for CSV injection).
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * Quotes a CSV field when it holds a comma, quote, CR or LF (or starts/ends with spaces), doubling
 * quotes. Text that a spreadsheet would run as a formula gets a leading '; numbers and JSON are left alone.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text = typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
  if (typeof value === "string" && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV line from fields, CRLF-terminated per RFC 4180. */
export function csvLine(fields: readonly unknown[]): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}

export const RESULT_CSV_COLUMNS = ["record_id", "position", "status", "result", "error_code", "error_message", "cost"] as const;

/** The header line of a results CSV; `withRecord` adds a `record` column with the record's data as JSON. */
export function csvHeader(options: { withRecord?: boolean } = {}): string {
  return csvLine(options.withRecord ? [...RESULT_CSV_COLUMNS, "record"] : RESULT_CSV_COLUMNS);
}

/** A result row as a CSV line matching csvHeader(); objects (result, record) are JSON text. */
export function csvRow(row: ResultRow, options: { withRecord?: boolean } = {}): string {
  const fields: unknown[] = [
    row.recordId,
    row.position,
    row.status,
    row.result,
    row.error?.code ?? null,
    row.error?.message ?? null,
    row.cost,
  ];
  if (options.withRecord) fields.push(row.record ?? null);
  return csvLine(fields);
}
