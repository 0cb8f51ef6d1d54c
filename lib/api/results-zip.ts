// A batch's results as a folder in a zip, streamed: processed/<record>.json (the result, with its
// citations when the flow gave any, or the error), raw/<record>.json (the provider's response as it
// came, when the batch has save_raw) and summary.json. One page of rows at a time, so memory stays
// bounded whatever the batch size; a client that goes away stops the database cursor.
import "server-only";
import { keptResponse } from "@/lib/datasets/export";
import { safeFileName, ZipWriter } from "@/lib/datasets/zip-writer";
import type { ResultRow } from "@/lib/engine/types";

const ROWS_PER_PULL = 64;

/** The result without the raw response a flow kept in it (that goes to raw/). */
function processedResult(result: unknown): unknown {
  if (!keptResponse(result)) return result;
  const rest = { ...(result as Record<string, unknown>) };
  delete rest.response;
  return rest;
}

export function processedEntry(row: ResultRow): Record<string, unknown> {
  const result = processedResult(row.result);
  const kept = (key: string) => (result && typeof result === "object" && key in result ? (result as Record<string, unknown>)[key] : undefined);
  const citations = kept("citations");
  const fieldCitations = kept("field_citations");
  return {
    record_id: row.recordId,
    status: row.status,
    result: result ?? null,
    ...(citations !== undefined ? { citations } : {}),
    ...(fieldCitations !== undefined ? { field_citations: fieldCitations } : {}),
    error: row.error ? { code: row.error.code, message: row.error.message } : null,
    cost: row.cost,
  };
}

const json = (v: unknown) => Buffer.from(`${JSON.stringify(v, null, 2)}\n`);

export function resultsZipStream(rows: AsyncGenerator<ResultRow>, opts: { saveRaw: boolean; summary: () => Promise<unknown> }): ReadableStream<Uint8Array> {
  const zip = new ZipWriter();
  let rowsDone = false;
  let tail: Generator<Buffer> | null = null;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (tail) {
            const next = tail.next();
            if (next.done) controller.close();
            else controller.enqueue(next.value);
            return;
          }
          if (rowsDone) {
            // the summary last: it then counts every record written above
            controller.enqueue(zip.entry("summary.json", json(await opts.summary())));
            tail = zip.finish();
            return;
          }
          const parts: Buffer[] = [];
          for (let i = 0; i < ROWS_PER_PULL; i++) {
            const next = await rows.next();
            if (next.done) {
              rowsDone = true;
              break;
            }
            const row = next.value;
            const name = safeFileName(row.recordId, ".json");
            parts.push(zip.entry(`processed/${name}`, json(processedEntry(row))));
            const raw = opts.saveRaw ? keptResponse(row.result) : null;
            if (raw) parts.push(zip.entry(`raw/${name}`, json(raw)));
          }
          if (parts.length) controller.enqueue(Buffer.concat(parts));
        } catch (err) {
          zip.close();
          throw err;
        }
      },
      async cancel() {
        zip.close();
        await rows.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
}
