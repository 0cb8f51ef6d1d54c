"use client";
// The compared records, a keyset page at a time: the record id, the verdict and both values; J and K
// (or the arrow keys) move through them, and the selected one shows its record beside both results.
import { useEffect, useMemo, useState } from "react";
import { JsonView } from "@/components/ui/json-view";
import { LoadMore, Loading, QueryError } from "@/components/ui/query-state";
import { StatusBadge } from "@/components/ui/status-badge";
import { api, type CompareInput } from "@/lib/client/api";
import { useComparedRecords } from "@/lib/client/hooks";
import type { ComparedRecord } from "@/lib/client/types";
import { valueLabel } from "./compare-summary";
import type { CompareFilter } from "./compare-view";

const VERDICT_TEXT = { same: "same", different: "different", only_a: "only in A", only_b: "only in B" } as const;

export function ComparedRecords({ input, filter, onClear }: { input: CompareInput; filter: CompareFilter; onClear: () => void }) {
  const query = { ...input, verdict: filter.verdict || undefined, a_value: filter.aValue || undefined, b_value: filter.bValue || undefined };
  const records = useComparedRecords(query);
  const items = useMemo(() => records.data?.pages.flatMap((p) => p.items) ?? [], [records.data]);
  const total = records.data?.pages[0]?.total;
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const selected = items.find((r) => r.record_id === selectedId) ?? null;

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
      const down = e.key === "j" || e.key === "ArrowDown";
      const up = e.key === "k" || e.key === "ArrowUp";
      if (!down && !up) {
        if (e.key === "Escape") setSelectedId(null);
        return;
      }
      if (!items.length) return;
      e.preventDefault();
      const at = items.findIndex((r) => r.record_id === selectedId);
      const next = at < 0 ? 0 : Math.min(items.length - 1, Math.max(0, at + (down ? 1 : -1)));
      setSelectedId(items[next]!.record_id);
      document.querySelector(`[data-compare-row="${CSS.escape(items[next]!.record_id)}"]`)?.scrollIntoView({ block: "nearest" });
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [items, selectedId]);

  const filtered = !!(filter.verdict || filter.aValue);
  return (
    <section className="jobs compare-records" aria-labelledby="compare-records-title">
      <div className="toolbar">
        <h2 id="compare-records-title">Records</h2>
        {filter.aValue ? (
          <span className="tag">
            A {valueLabel(JSON.parse(filter.aValue))} · B {valueLabel(JSON.parse(filter.bValue || "null"))}
          </span>
        ) : filter.verdict ? (
          <span className="tag">{VERDICT_TEXT[filter.verdict as keyof typeof VERDICT_TEXT] ?? filter.verdict}</span>
        ) : null}
        {filtered ? (
          <button type="button" className="btn btn-sm btn-ghost" onClick={onClear}>
            Show all
          </button>
        ) : null}
        <span className="muted small">J / K to move</span>
        <details className="menu">
          <summary className="btn btn-sm">Export</summary>
          <div className="menu-items" role="menu">
            <a role="menuitem" href={api.compareExportUrl(query, "jsonl")} download>
              Comparison as JSONL
            </a>
            <a role="menuitem" href={api.compareExportUrl(query, "csv")} download>
              Comparison as CSV
            </a>
          </div>
        </details>
      </div>
      {records.isLoading ? (
        <Loading label="Loading records…" />
      ) : records.isError && !items.length ? (
        <QueryError error={records.error} onRetry={() => void records.refetch()} what="the records" />
      ) : items.length === 0 ? (
        <div className="empty-state" role="status">
          <h2>No records match</h2>
        </div>
      ) : (
        <div className="compare-records-body">
          <div className="table-wrap">
            <table aria-label="Compared records">
              <thead>
                <tr>
                  <th>Record</th>
                  <th>Verdict</th>
                  <th>A</th>
                  <th>B</th>
                </tr>
              </thead>
              <tbody>
                {items.map((r) => (
                  <tr
                    key={r.record_id}
                    data-compare-row={r.record_id}
                    className="clickable"
                    aria-selected={r.record_id === selectedId}
                    onClick={() => setSelectedId(r.record_id)}
                  >
                    <td className="mono cell-record">{r.record_id}</td>
                    <td>
                      <span className={`badge verdict-${r.verdict}`}>{VERDICT_TEXT[r.verdict]}</span>
                    </td>
                    <td className="cell-json">{r.a ? valueLabel(r.a.value) : <span className="muted">—</span>}</td>
                    <td className="cell-json">{r.b ? valueLabel(r.b.value) : <span className="muted">—</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <LoadMore
              hasNextPage={!!records.hasNextPage}
              isFetchingNextPage={records.isFetchingNextPage}
              fetchNextPage={() => void records.fetchNextPage()}
              shown={items.length}
              total={total}
              noun={["record", "records"]}
            />
          </div>
          {selected ? <RecordBeside record={selected} /> : null}
        </div>
      )}
    </section>
  );
}

function RecordBeside({ record: r }: { record: ComparedRecord }) {
  return (
    <section className="card compare-beside" aria-label={`Record ${r.record_id}`}>
      <h3 className="mono">{r.record_id}</h3>
      <div className="compare-beside-cols">
        <div>
          <div className="stat-label">Record</div>
          <JsonView value={r.data} label="Record data" />
        </div>
        {(["a", "b"] as const).map((side) => {
          const s = r[side];
          return (
            <div key={side}>
              <div className="stat-label">
                {side.toUpperCase()} {s ? <StatusBadge status={s.status} /> : null}
              </div>
              {s ? <JsonView value={s.result} label={`${side.toUpperCase()} result`} /> : <p className="muted">not in batch {side.toUpperCase()}</p>}
            </div>
          );
        })}
      </div>
    </section>
  );
}
