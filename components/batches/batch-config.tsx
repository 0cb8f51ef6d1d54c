"use client";
// Everything a batch was started with. Parameters and options are listed generically (see
// lib/client/config-entries.ts), so a new option appears here without a change.
import Link from "next/link";
import { configEntries, type ConfigEntry } from "@/lib/client/config-entries";
import type { Batch } from "@/lib/client/types";

export function BatchConfiguration({ batch: b }: { batch: Batch }) {
  const parameters = configEntries(b.parameters as Record<string, unknown> | null);
  const options = configEntries(b.options as Record<string, unknown>);
  return (
    <details className="card config">
      <summary>Configuration</summary>
      <div className="config-body">
        <section aria-label="Batch configuration">
          <h3>Batch</h3>
          <dl className="config-list">
            <dt>flow</dt>
            <dd className="mono">{b.flow}</dd>
            <dt>dataset</dt>
            <dd>{b.dataset_id ? <Link href={`/datasets/${b.dataset_id}`}>{b.dataset_id}</Link> : <span className="muted">inline records</span>}</dd>
            <dt>parent</dt>
            <dd>{b.parent_id ? <Link href={`/batches/${b.parent_id}`}>{b.parent_id}</Link> : <span className="muted">none</span>}</dd>
          </dl>
        </section>
        <section aria-label="Parameters">
          <h3>Parameters</h3>
          {parameters.length ? <Entries entries={parameters} /> : <p className="muted">none: the flow&apos;s defaults</p>}
        </section>
        <section aria-label="Options">
          <h3>Options</h3>
          <Entries entries={options} />
        </section>
      </div>
    </details>
  );
}

function Entries({ entries }: { entries: ConfigEntry[] }) {
  return (
    <dl className="config-list">
      {entries.map((e) => (
        <div key={e.key} className="config-row">
          <dt>{e.key}</dt>
          <dd className={e.unset ? "muted" : "mono"}>{e.value}</dd>
        </div>
      ))}
    </dl>
  );
}
