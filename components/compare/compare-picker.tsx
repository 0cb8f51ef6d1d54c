"use client";
// Which two batches, and which result field: batches from the recent list, or any id typed in.
import { useState, type FormEvent } from "react";
import { useBatchList } from "@/lib/client/hooks";

export function ComparePicker({
  a,
  b,
  field,
  onChange,
}: {
  a: string;
  b: string;
  field: string;
  onChange: (v: { a: string; b: string; field: string }) => void;
}) {
  const [draft, setDraft] = useState({ a, b, field });
  const batches = useBatchList({ limit: 100 });
  const recent = batches.data?.pages.flatMap((p) => p.items) ?? [];

  function submit(e: FormEvent) {
    e.preventDefault();
    onChange({ a: draft.a.trim(), b: draft.b.trim(), field: draft.field.trim() || "result" });
  }

  return (
    <form className="card compare-picker" onSubmit={submit} aria-label="What to compare">
      {(["a", "b"] as const).map((side) => (
        <label key={side} className="field">
          <span>Batch {side.toUpperCase()}</span>
          <input
            list="compare-batches"
            aria-label={`Batch ${side.toUpperCase()}`}
            placeholder="batch id"
            value={draft[side]}
            onChange={(e) => setDraft({ ...draft, [side]: e.target.value })}
            spellCheck={false}
          />
        </label>
      ))}
      <label className="field">
        <span>Field</span>
        <input
          aria-label="Field"
          placeholder="result.label"
          value={draft.field}
          onChange={(e) => setDraft({ ...draft, field: e.target.value })}
          spellCheck={false}
        />
      </label>
      <button type="submit" className="btn btn-primary">
        Compare
      </button>
      <datalist id="compare-batches">
        {recent.map((x) => (
          <option key={x.id} value={x.id}>
            {x.name || x.flow} · {x.status} · {x.progress.total.toLocaleString("en-US")} records
          </option>
        ))}
      </datalist>
    </form>
  );
}
