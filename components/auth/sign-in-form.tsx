"use client";

import { useSearchParams } from "next/navigation";
import { useState, type FormEvent } from "react";
import { sameOriginNext } from "@/lib/client/next-path";

export function SignInForm() {
  const params = useSearchParams();
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await fetch("/api/auth/signin", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ key: key.trim() }),
      });
      if (!res.ok) {
        const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
        setError(body?.error?.message ?? `sign-in failed (${res.status})`);
        return;
      }
      // a full navigation: the client router cached the redirect that brought us here
      window.location.assign(sameOriginNext(params.get("next"), window.location.origin));
    } catch {
      setError("The Batchboard API could not be reached.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card" onSubmit={submit}>
      <div className="field">
        <label htmlFor="api-key">API key</label>
        <input id="api-key" type="password" autoComplete="off" value={key} onChange={(e) => setKey(e.target.value)} placeholder="bb_…" required />
        {error ? (
          <span className="field-error" role="alert">
            {error}
          </span>
        ) : null}
      </div>
      <button className="btn btn-primary" type="submit" disabled={busy || !key.trim()}>
        {busy ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}
