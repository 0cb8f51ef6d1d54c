"use client";
// A batch's records sent to a provider's batch tier (mode provider_batch): one row per provider
// batch with the provider's id and status, its counts, and when it was sent, expires and ended.
import { useEffect, useRef } from "react";
import { formatCount, formatStatus, formatTime } from "@/lib/client/format";
import { useProviderBatches } from "@/lib/client/hooks";

/**
 * `changed`: a value that changes when the batch's provider batches may have (its status, its records
 * at the provider): read again then, not only on the slow poll (which stops once the batch ended).
 */
export function ProviderBatches({ batchId, poll, changed }: { batchId: string; poll: boolean; changed: string }) {
  const { data, error, refetch } = useProviderBatches(batchId, poll);
  const seen = useRef(changed);
  useEffect(() => {
    if (seen.current === changed) return;
    seen.current = changed;
    void refetch();
  }, [changed, refetch]);
  const items = data?.items ?? [];
  return (
    <section className="card" aria-label="Provider batches">
      <h2>Provider batches</h2>
      {error ? <p className="error">Could not load the provider batches: {(error as Error).message}</p> : null}
      {!error && items.length === 0 ? <p className="muted">Nothing sent to the provider yet.</p> : null}
      {items.length ? (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Provider id</th>
                <th>Status</th>
                <th className="num">Records</th>
                <th className="num">Succeeded</th>
                <th className="num">Failed</th>
                <th>Sent</th>
                <th>Expires</th>
                <th>Ended</th>
              </tr>
            </thead>
            <tbody>
              {items.map((p) => (
                <tr key={p.id}>
                  <td>
                    {p.provider_batch_id ? <code>{p.provider_batch_id}</code> : <span className="muted">(being submitted)</span>}{" "}
                    <span className="muted">{p.provider}</span>
                  </td>
                  <td>
                    {formatStatus(p.status)}
                    {p.cancel_requested_at ? <span className="muted"> (cancelled by us)</span> : null}
                    {p.error ? <div className="muted small">{p.error}</div> : null}
                  </td>
                  <td className="num">{formatCount(p.requests)}</td>
                  <td className="num">{formatCount(p.succeeded)}</td>
                  <td className="num">{formatCount(p.failed)}</td>
                  <td>{formatTime(p.submitted_at)}</td>
                  <td>{p.ended_at ? "—" : formatTime(p.expires_at)}</td>
                  <td>{p.ended_at ? formatTime(p.ended_at) : <span className="muted">next poll {formatTime(p.next_poll_at)}</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

/** Whether a batch's flow sends its records to a provider's batch tier (its parameters say mode provider_batch). */
export function sendsToProvider(batch: { parameters: unknown }): boolean {
  return (batch.parameters as { mode?: unknown } | null)?.mode === "provider_batch";
}
