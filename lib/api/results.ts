// Streams a batch's results as jsonl, csv or OpenAI batch-output lines, pulling one row at a time from
// the engine's generator: memory stays bounded whatever the batch size, and a client that goes
// away stops the database cursor.
import "server-only";
import type { ResultRow } from "@/lib/engine/types";
import { toResultLine } from "./serialize";

export type ResultFormat = "jsonl" | "csv" | "openai";

const CSV_COLUMNS = ["record_id", "status", "result", "error_code", "error_message", "cost"];

export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  const s = typeof value === "string" ? value : typeof value === "number" || typeof value === "boolean" ? String(value) : JSON.stringify(value);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function formatResultRow(format: ResultFormat, row: ResultRow, batchId: string): string {
  if (format === "csv") {
    return `${[row.recordId, row.status, row.result, row.error?.code, row.error?.message, row.cost].map(csvCell).join(",")}\r\n`;
  }
  if (format === "openai") {
    // the OpenAI Batch API output shape: custom_id carries our record id
    const ok = row.status === "succeeded";
    return `${JSON.stringify({
      id: `${batchId}:${row.recordId}`,
      custom_id: row.recordId,
      response: ok ? { status_code: 200, request_id: `${batchId}:${row.position}`, body: row.result ?? null } : null,
      error: ok ? null : { code: row.error?.code ?? row.status, message: row.error?.message ?? `job ${row.status}` },
    })}\n`;
  }
  return `${JSON.stringify(toResultLine(row))}\n`;
}

export const RESULT_CONTENT_TYPES: Record<ResultFormat, string> = {
  jsonl: "application/x-ndjson; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  openai: "application/x-ndjson; charset=utf-8",
};

export function resultsStream(rows: AsyncGenerator<ResultRow>, format: ResultFormat, batchId: string): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let headerSent = format !== "csv";
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(encoder.encode(`${CSV_COLUMNS.join(",")}\r\n`));
          return;
        }
        // batch ~256 rows per chunk: fewer, larger writes without holding more than one chunk
        let text = "";
        for (let i = 0; i < 256; i++) {
          const next = await rows.next();
          if (next.done) {
            if (text) controller.enqueue(encoder.encode(text));
            controller.close();
            return;
          }
          text += formatResultRow(format, next.value, batchId);
        }
        controller.enqueue(encoder.encode(text));
      },
      async cancel() {
        await rows.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
}
