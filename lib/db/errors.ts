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

export function unavailableFrom(err: unknown): AppError | null {
  if (!(err instanceof Error)) return null;
  const code = (err as { code?: unknown }).code;
  let reason: string | undefined;
  if (err.message === "timeout exceeded when trying to connect") reason = "no database connection came free in time";
  else if (typeof code === "string") reason = UNAVAILABLE_SQLSTATES[code] ?? (code === "ECONNREFUSED" ? "the database refused the connection" : undefined);
  else if (/^Connection terminated/.test(err.message)) reason = "the database connection was lost";
  if (!reason) return null;
  return new AppError("unavailable", `the server is busy: ${reason}; retry shortly`, [{ message: reason }], { "Retry-After": "1" });
}
