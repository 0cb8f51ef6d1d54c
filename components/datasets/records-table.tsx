"use client";
// A dataset's records: flat rows (CSV, JSONL of flat objects) as a table with a column per key,
// anything else as a one-line JSON preview that opens into the full value.
import { useState } from "react";
import { JsonView } from "@/components/ui/json-view";
import { previewJson } from "@/lib/client/preview-json";
import { cellText, tabularColumns } from "@/lib/client/tabular";
import type { DatasetRecord } from "@/lib/client/types";

export function RecordsTable({ records }: { records: DatasetRecord[] }) {
  const columns = tabularColumns(records.map((r) => r.data));
  return (
    <table aria-label="Records" className={columns ? "records-grid" : undefined}>
      <thead>
        <tr>
          <th className="num">#</th>
          <th>Record id</th>
          {columns ? columns.map((c) => <th key={c}>{c}</th>) : <th>Data</th>}
        </tr>
      </thead>
      <tbody>
        {records.map((r) =>
          columns ? (
            <tr key={r.record_id}>
              <td className="num muted">{r.position}</td>
              <td className="mono">{r.record_id}</td>
              {columns.map((c) => {
                const text = cellText((r.data as Record<string, unknown>)[c]);
                return (
                  <td key={c} className="cell-value" title={text.length > 60 ? text.slice(0, 2000) : undefined}>
                    {text}
                  </td>
                );
              })}
            </tr>
          ) : (
            <RecordRow key={r.record_id} record={r} />
          ),
        )}
      </tbody>
    </table>
  );
}

/** One record: a one-line preview that opens into the full, collapsible JSON. */
function RecordRow({ record: r }: { record: DatasetRecord }) {
  const [open, setOpen] = useState(false);
  return (
    <tr>
      <td className="num muted">{r.position}</td>
      <td className="mono">{r.record_id}</td>
      <td className="cell-json">
        <button
          type="button"
          className="json-preview"
          aria-expanded={open}
          aria-label={`${open ? "Hide" : "Show"} record ${r.record_id}`}
          onClick={() => setOpen((o) => !o)}
        >
          <span aria-hidden>{open ? "▾" : "▸"}</span> <code>{previewJson(r.data, 200)}</code>
        </button>
        {open ? <JsonView value={r.data} label={`Record ${r.record_id}`} /> : null}
      </td>
    </tr>
  );
}
