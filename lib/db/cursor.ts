// Opaque keyset cursors: base64url of a JSON array, decoded by a strict schema per list. A cursor is
// input like any other: one the server never issued (`["x","y"]`, `[1e400]`) is a 422 here rather than
// a value PostgreSQL refuses deep inside the query.
import { z } from "zod";
import { INT4_MAX, findUnstorable } from "@/lib/db/storable";
import { AppError } from "@/lib/errors";

// what Date#toISOString writes for the years PostgreSQL and JavaScript share
const timestamp = z
  .string()
  .regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/)
  .refine((s) => !Number.isNaN(Date.parse(s)));
const id = z
  .string()
  .min(1)
  .max(512)
  .refine((s) => findUnstorable(s) === null);
const counter = z.number().int().min(-1).max(INT4_MAX);

/** The cursor shapes: one per keyset order. */
export const CURSORS = {
  /** (created_at, id): batches, prompts, datasets */
  createdAt: z.tuple([timestamp, id]),
  /** (sort, value, id): batches by a numeric sort key (progress, cost, rate) */
  batchSort: z.tuple([z.enum(["progress", "cost", "rate"]), z.number().finite(), id]),
  /** (finished_at, jobs.id): jobs by finish time */
  finishedAt: z.tuple([timestamp, z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)]),
  /** a record id: compared records */
  recordId: z.tuple([id]),
  /** a job's ordinal or a record's position */
  ordinal: z.tuple([counter]),
} as const;

export function encodeCursor(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString("base64url");
}

export function decodeCursor<S extends z.ZodType>(cursor: string | null | undefined, schema: S): z.output<S> | null {
  if (!cursor) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    value = undefined;
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new AppError("validation_failed", "invalid cursor", [{ path: "cursor", message: "not a cursor this list returned" }]);
}
