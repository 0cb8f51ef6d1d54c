// Streams a batch's results as jsonl, csv or OpenAI batch-output lines, pulling one row at a time from
// the engine's generator: memory stays bounded whatever the batch size, and a client that goes
// away stops the database cursor.
import "server-only";
import type { ResultRow } from "@/lib/engine/types";
import { csvHeader, csvRow, openAIOutputLine } from "@/lib/datasets/export";
import { toResultLine } from "./serialize";

export type ResultFormat = "jsonl" | "csv" | "openai";

export function formatResultRow(format: ResultFormat, row: ResultRow, batchId: string): string {
  if (format === "csv") return csvRow(row);
  if (format === "openai") return openAIOutputLine(row, batchId);
  return `${JSON.stringify(toResultLine(row))}\n`;
}

export const RESULT_CONTENT_TYPES: Record<ResultFormat, string> = {
  jsonl: "application/x-ndjson; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  openai: "application/x-ndjson; charset=utf-8",
};

export function resultsStream(rows: AsyncGenerator<ResultRow>, format: ResultFormat, batchId: string): ReadableStream<Uint8Array> {
  return linesStream(rows, (row) => formatResultRow(format, row, batchId), format === "csv" ? csvHeader() : undefined);
}

/** Text lines from a generator, pulled as the client reads, ~256 rows per chunk; `header` goes first. */
export function linesStream<T>(rows: AsyncGenerator<T>, toLine: (row: T) => string, header?: string): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let headerSent = header === undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(encoder.encode(header));
          return;
        }
        // fewer, larger writes without holding more than one chunk
        let text = "";
        for (let i = 0; i < 256; i++) {
          const next = await rows.next();
          if (next.done) {
            if (text) controller.enqueue(encoder.encode(text));
            controller.close();
            return;
          }
          text += toLine(next.value);
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
