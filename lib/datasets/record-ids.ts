// How a record gets its id: objects name it in a field (default "id"), anything else (a plain string,
// a number) is numbered by its 1-based position. Shared by dataset imports and inline batch records.
import { AppError } from "@/lib/errors";

export interface RecordWithId {
  recordId: string;
  data: unknown;
}

/** Longest record id accepted: ids appear in URLs, exports and the Inbox. */
export const MAX_RECORD_ID_LENGTH = 512;

/**
 * The id of `value`, the `index`th record (0-based). Objects must carry a non-empty string or
 * finite number in `idField`; the error names `${pathPrefix}.${index}.${idField}`.
 */
export function recordIdOf(value: unknown, index: number, idField: string, pathPrefix: string): string {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return String(index + 1);
  const raw = (value as Record<string, unknown>)[idField];
  let recordId: string | undefined;
  if (typeof raw === "string") recordId = raw;
  else if (typeof raw === "number" && Number.isFinite(raw)) recordId = String(raw);
  // the path is only spelled out for an error: this runs once per record of a million-row import
  if (recordId === undefined || recordId === "") {
    const message =
      raw === undefined || raw === null || raw === ""
        ? `record has no ${JSON.stringify(idField)} field`
        : `${JSON.stringify(idField)} must be a non-empty string or a finite number`;
    throw new AppError("validation_failed", `record ${index + 1}: ${message}`, [{ path: `${pathPrefix}.${index}.${idField}`, message }]);
  }
  const problem = recordIdProblem(recordId);
  if (problem) throw new AppError("validation_failed", problem, [{ path: `${pathPrefix}.${index}.${idField}`, message: problem }]);
  return recordId;
}

/** recordIdOf, with the record. */
export function extractRecordId(value: unknown, index: number, idField: string, pathPrefix: string): RecordWithId {
  return { recordId: recordIdOf(value, index, idField, pathPrefix), data: value };
}

/** Why an id cannot be used: PostgreSQL text cannot hold NUL, and ids should stay short. */
export function recordIdProblem(recordId: string): string | undefined {
  if (recordId.length > MAX_RECORD_ID_LENGTH) return `record id is longer than ${MAX_RECORD_ID_LENGTH} characters`;
  if (recordId.includes("\u0000")) return "record id contains a NUL character";
  return undefined;
}

/** Refuses ids PostgreSQL text cannot hold (NUL) or that are unreasonably long. */
export function checkRecordId(recordId: string, path: string): void {
  const message = recordIdProblem(recordId);
  if (message) throw new AppError("validation_failed", message, [{ path, message }]);
}

/**
 * extractRecordId over a whole array, refusing duplicates (422 naming both places). Holds every id
 * in memory: for arrays already in memory; streamed imports rely on the unique index instead
 * (lib/datasets/write-records.ts).
 */
export function extractRecordIds(values: readonly unknown[], idField: string, pathPrefix: string): RecordWithId[] {
  // one Set operation per record (100,000 inline records: ~45 -> ~30 ms); the first occurrence of
  // a repeated id is looked up only for the error
  const seen = new Set<string>();
  const out = new Array<RecordWithId>(values.length);
  for (let index = 0; index < values.length; index++) {
    const recordId = recordIdOf(values[index], index, idField, pathPrefix);
    seen.add(recordId);
    if (seen.size === index) {
      let first = 0;
      while (out[first]!.recordId !== recordId) first++;
      const message = `duplicate record id ${JSON.stringify(recordId)} (first seen at ${pathPrefix}.${first})`;
      throw new AppError("validation_failed", `${pathPrefix}.${index}: ${message}`, [{ path: `${pathPrefix}.${index}`, message }]);
    }
    out[index] = { recordId, data: values[index] };
  }
  return out;
}
