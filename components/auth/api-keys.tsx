"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { ApiError, apiFetch } from "@/lib/client/api";
import { formatTime } from "@/lib/client/format";

interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

const keysKey = ["api-keys"] as const;

export function ApiKeys() {
  const qc = useQueryClient();
  const keys = useQuery({ queryKey: keysKey, queryFn: () => apiFetch<{ items: ApiKey[] }>("/api/keys") });
  const [name, setName] = useState("");
  const [scope, setScope] = useState("write");
  const [created, setCreated] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: () =>
      apiFetch<ApiKey & { key: string }>("/api/keys", { method: "POST", body: JSON.stringify({ name, scopes: [scope] }) }),
    onSuccess: (k) => {
      setCreated(k.key);
      setName("");
      void qc.invalidateQueries({ queryKey: keysKey });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => apiFetch<ApiKey>(`/api/keys/${encodeURIComponent(id)}`, { method: "DELETE" }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: keysKey }),
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    setCreated(null);
    create.mutate();
  }

  return (
    <div style={{ display: "grid", gap: 16 }}>
      <form className="card" onSubmit={submit} aria-label="Create an API key">
        <h2>New key</h2>
        <div style={{ display: "flex", gap: 8, alignItems: "flex-end", flexWrap: "wrap" }}>
          <div className="field">
            <label htmlFor="key-name">Name</label>
            <input id="key-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="ci, laptop, …" required />
          </div>
          <div className="field">
            <label htmlFor="key-scope">Scope</label>
            <select id="key-scope" value={scope} onChange={(e) => setScope(e.target.value)}>
              <option value="read">read</option>
              <option value="write">write (read + create, cancel, retry, answer)</option>
              <option value="admin">admin (write + keys)</option>
            </select>
          </div>
          <div className="field">
            <button className="btn btn-primary" type="submit" disabled={create.isPending || !name.trim()}>
              Create key
            </button>
          </div>
        </div>
        {create.error ? <p className="field-error" role="alert">{(create.error as Error).message}</p> : null}
        {created ? (
          <p role="status" className="new-key">
            Copy it now, it will not be shown again: <code data-testid="new-key">{created}</code> <CopyButton text={created} />
          </p>
        ) : null}
      </form>
      <div className="card" style={{ padding: 0, overflowX: "auto" }}>
        {keys.error ? (
          <p className="field-error" style={{ padding: 14 }} role="alert">
            {keys.error instanceof ApiError && keys.error.status === 403 ? "Managing keys needs the admin scope." : (keys.error as Error).message}
          </p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Key</th>
                <th>Scopes</th>
                <th>Created</th>
                <th>Last used</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {(keys.data?.items ?? []).map((k) => (
                <tr key={k.id}>
                  <td>{k.name}</td>
                  <td className="mono">{k.prefix}…</td>
                  <td>{k.scopes.join(", ")}</td>
                  <td>{formatTime(k.created_at)}</td>
                  <td>{k.last_used_at ? formatTime(k.last_used_at) : "never"}</td>
                  <td>
                    {k.revoked_at ? (
                      <span className="muted">revoked</span>
                    ) : (
                      <button
                        className="btn btn-danger"
                        type="button"
                        onClick={() => {
                          if (window.confirm(`Revoke "${k.name}"? Scripts and sessions using it stop working.`)) revoke.mutate(k.id);
                        }}
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
              {keys.data && keys.data.items.length === 0 ? (
                <tr>
                  <td colSpan={6} className="muted">
                    No keys yet.
                  </td>
                </tr>
              ) : null}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}

/** Copies `text` to the clipboard and says so for a moment; says why when the browser refuses. */
function CopyButton({ text }: { text: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state === "idle") return;
    const t = setTimeout(() => setState("idle"), 4000);
    return () => clearTimeout(t);
  }, [state]);
  return (
    <>
      <button
        type="button"
        className="btn btn-sm"
        onClick={() =>
          navigator.clipboard.writeText(text).then(
            () => setState("copied"),
            () => setState("failed"),
          )
        }
      >
        {state === "copied" ? "Copied" : "Copy"}
      </button>
      {state === "failed" ? <span className="field-error"> The browser refused the clipboard: select the key and copy it.</span> : null}
    </>
  );
}
