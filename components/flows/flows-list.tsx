"use client";

import Link from "next/link";
import { Loading, QueryError } from "@/components/ui/query-state";
import { useFlows } from "@/lib/client/hooks";
import { schemaFields } from "@/lib/client/json-schema";

export function FlowsList() {
  const flows = useFlows();
  if (flows.isLoading) return <Loading label="Loading flows…" />;
  if (flows.isError) return <QueryError error={flows.error} onRetry={() => void flows.refetch()} what="flows" />;
  const items = flows.data?.items ?? [];
  if (!items.length) {
    return (
      <section className="empty-state" role="status">
        <h2>No flows registered</h2>
        <p>A flow is one file in lib/flows/ and one line in its registry.</p>
      </section>
    );
  }
  return (
    <div className="flow-list">
      {items.map((f) => {
        const fields = schemaFields(f.parameters_schema);
        return (
          <article key={f.name} className="card flow-card" aria-labelledby={`flow-${f.name}`}>
            <header className="flow-head">
              <div>
                <h2 id={`flow-${f.name}`} className="mono">
                  {f.name}
                </h2>
                <p>{f.description}</p>
                {f.default_dataset ? <p className="muted small">Default dataset: {f.default_dataset}</p> : null}
              </div>
              <Link className="btn" href={`/batches/new?flow=${encodeURIComponent(f.name)}`} aria-label={`Launch ${f.name}`}>
                Launch
              </Link>
            </header>
            {fields.length ? (
              <table className="param-table" aria-label={`${f.name} parameters`}>
                <thead>
                  <tr>
                    <th>Parameter</th>
                    <th>Type</th>
                    <th>Default</th>
                    <th>Required</th>
                    <th>Description</th>
                  </tr>
                </thead>
                <tbody>
                  {fields.map((p) => (
                    <tr key={p.name}>
                      <td className="mono">{p.name}</td>
                      <td className="mono small">{p.typeLabel}</td>
                      <td className="mono small">{p.default === undefined ? "—" : JSON.stringify(p.default)}</td>
                      <td>{p.required ? "yes" : "no"}</td>
                      <td className="wrap">{p.description ?? ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p className="muted small">No parameters.</p>
            )}
          </article>
        );
      })}
    </div>
  );
}
