// Database failures that are about availability, not the request: no pooled connection within
// BATCHBOARD_DB_CONNECT_TIMEOUT_MS, a statement past its statement_timeout, a connection the server
// ended. The caller may retry, so they answer 503 `unavailable` with Retry-After instead of a 500.
import { AppError } from "@/lib/errors";

const UNAVAILABLE_SQLSTATES: Record<string, string> = {
  "57014": "a database statement ran past its time limit (statement_timeout)",
  "25P03": "a transaction sat idle past idle_in_transaction_session_timeout",
  "57P01": "the database is shutting down",
  "57P03": "the database is starting up",
  "53300": "the database has no connection slots left",
};

/**
 * The SQLSTATE and message of a database error, from pg directly or from Prisma, which wraps the
 * driver's error (PrismaClientKnownRequestError P2010 etc., meta.driverAdapterError.cause).
 */
export function databaseErrorOf(err: unknown): { code?: string; message: string } | null {
  if (!(err instanceof Error)) return null;
  const cause = (err as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown; originalMessage?: unknown } } } }).meta?.driverAdapterError?.cause;
  if (cause) return { code: typeof cause.originalCode === "string" ? cause.originalCode : undefined, message: String(cause.originalMessage ?? err.message) };
  const code = (err as { code?: unknown }).code;
  return { code: typeof code === "string" ? code : undefined, message: err.message };
}

export function unavailableFrom(err: unknown): AppError | null {
  const db = databaseErrorOf(err);
  if (!db) return null;
  const { code, message } = db;
  let reason: string | undefined;
  if (message === "timeout exceeded when trying to connect") reason = "no database connection came free in time";
  else if (code) reason = UNAVAILABLE_SQLSTATES[code] ?? (code === "ECONNREFUSED" ? "the database refused the connection" : undefined);
  if (!reason && /^Connection terminated/.test(message)) reason = "the database connection was lost";
  if (!reason) return null;
  return new AppError("unavailable", `the server is busy: ${reason}; retry shortly`, [{ message: reason }], { "Retry-After": "1" });
}
