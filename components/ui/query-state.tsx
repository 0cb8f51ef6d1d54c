"use client";

import Link from "next/link";
import { ApiError } from "@/lib/client/api";

/** The error state for a failed query: says whether the API is down or what it answered. */
export function QueryError({ error, onRetry, what = "data" }: { error: unknown; onRetry?: () => void; what?: string }) {
  if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
    return (
      <section className="empty-state error-state" role="alert">
        <h2>{error.status === 401 ? "Sign in required" : "Not allowed"}</h2>
        <p>{error.message}</p>
        {error.status === 401 ? (
          <Link className="btn" href="/signin">
            Sign in
          </Link>
        ) : null}
      </section>
    );
  }
  const unreachable = error instanceof ApiError ? error.unreachable : true;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <section className="empty-state error-state" role="alert">
      <h2>{unreachable ? "API unreachable" : `Could not load ${what}`}</h2>
      <p>{unreachable ? "The Batchboard server did not answer. Check that it is running, then retry." : message}</p>
      {onRetry ? (
        <button type="button" className="btn" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </section>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <p className="loading muted" role="status" aria-live="polite">
      {label}
    </p>
  );
}

export function LoadMore({
  hasNextPage,
  isFetchingNextPage,
  fetchNextPage,
  shown,
  total,
  noun,
}: {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => void;
  shown: number;
  total?: number;
  /** singular and plural; the one used agrees with the total when it is known, else with the count shown */
  noun: readonly [one: string, many: string];
}) {
  return (
    <div className="load-more">
      <span className="muted">
        {shown.toLocaleString("en-US")}
        {typeof total === "number" ? ` of ${total.toLocaleString("en-US")}` : ""} {(total ?? shown) === 1 ? noun[0] : noun[1]}
      </span>
      {hasNextPage ? (
        <button type="button" className="btn" onClick={fetchNextPage} disabled={isFetchingNextPage}>
          {isFetchingNextPage ? "Loading…" : "Load more"}
        </button>
      ) : null}
    </div>
  );
}
