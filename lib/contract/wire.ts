// What every wire schema shares: the timestamps and JSON values as sent, the query-string helpers,
// path params, the list envelope and the one error body. snake_case, as on the wire; only zod, so
// the browser bundle can take it.
import { z } from "zod";

/** The largest value of a PostgreSQL `integer` column: numbers bound for one are checked against it. */
export const INT4_MAX = 2_147_483_647;

export const RESULT_FORMATS = ["jsonl", "csv", "openai"] as const;
export const UPLOAD_FORMATS = ["csv", "jsonl", "json", "openai", "files"] as const;

export const iso = z.iso.datetime({ offset: true });
export const nullableIso = iso.nullable();
export const json = z.unknown();
export const count = z.number().int();

// ---------- query helpers ----------

/** `?status=a,b` or `?status=a&status=b` -> ["a", "b"] */
export function listOf<T extends readonly [string, ...string[]]>(values: T) {
  return z.preprocess(
    (v) => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).flatMap((s) => String(s).split(",")).map((s) => s.trim()).filter(Boolean)),
    z.array(z.enum(values)).optional(),
  );
}

export const single = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (Array.isArray(v) ? v[v.length - 1] : v), schema);

export const limitParam = single(z.coerce.number().int().min(1).max(1000).default(50)) as unknown as z.ZodDefault<z.ZodNumber>;
export const cursorParam = z.string().min(1).max(4096).optional();
export const pageQuery = z.object({ cursor: cursorParam, limit: limitParam });

// ---------- path params ----------

export const idParams = z.object({ id: z.string().min(1).max(200) });
export const jobParams = z.object({ id: z.string().min(1).max(200), recordId: z.string().min(1).max(512) });

export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ path: z.string().optional(), message: z.string() }).loose()),
  }),
});

export const listSchema = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), next_cursor: z.string().nullable(), total: z.number().int() });
