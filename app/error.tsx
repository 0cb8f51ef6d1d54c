"use client";

import Link from "next/link";

// Catches render errors in any page so the shell stays up and the user can retry.
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <section className="empty-state error-state" role="alert">
      <h1>Something went wrong</h1>
      <p>{error.message || "This page failed to render."}</p>
      {error.digest ? <p className="muted small">Reference: {error.digest}</p> : null}
      <p>
        <button type="button" className="btn" onClick={reset}>
          Try again
        </button>{" "}
        <Link href="/batches" className="btn btn-ghost">
          Go to batches
        </Link>
      </p>
    </section>
  );
}
