"use client";
// Pretty, collapsible JSON that stays fast on huge values: collapsed nodes render nothing, each
// object/array shows a page of entries at a time, and long strings are cut. Values render as React
// text, so HTML inside records is shown, never run.
import { useState } from "react";

const ENTRY_PAGE = 50;
const STRING_PAGE = 400;
const SMALL_NODES = 150;

function countNodes(value: unknown, limit: number): number {
  let n = 0;
  const stack: unknown[] = [value];
  while (stack.length && n <= limit) {
    const v = stack.pop();
    n++;
    if (v && typeof v === "object") {
      const vals = Array.isArray(v) ? v : Object.values(v as object);
      for (let i = 0; i < vals.length && i <= limit; i++) stack.push(vals[i]);
    }
  }
  return n;
}

export function JsonView({ value, label }: { value: unknown; label?: string }) {
  // small values open fully; big ones open only their first level
  const [openDepth] = useState(() => (countNodes(value, SMALL_NODES) <= SMALL_NODES ? 99 : 1));
  return (
    <div className="json" aria-label={label} role="group">
      <JsonNode value={value} depth={0} openDepth={openDepth} />
    </div>
  );
}

function JsonString({ value }: { value: string }) {
  const [shown, setShown] = useState(STRING_PAGE);
  if (value.length <= shown) return <span className="json-string">{JSON.stringify(value)}</span>;
  return (
    <span className="json-string">
      {JSON.stringify(value.slice(0, shown)).slice(0, -1)}…&quot;
      <button type="button" className="json-more" onClick={() => setShown((s) => s * 8)}>
        show more ({(value.length - shown).toLocaleString("en-US")} more chars)
      </button>
    </span>
  );
}

function JsonNode({ value, depth, openDepth, name }: { value: unknown; depth: number; openDepth: number; name?: string }) {
  const [open, setOpen] = useState(depth < openDepth);
  const [limit, setLimit] = useState(ENTRY_PAGE);
  const key = name !== undefined ? <span className="json-key">{name}: </span> : null;

  if (value === null || typeof value !== "object") {
    let body;
    if (typeof value === "string") body = <JsonString value={value} />;
    else if (typeof value === "number") body = <span className="json-number">{String(value)}</span>;
    else if (typeof value === "boolean") body = <span className="json-bool">{String(value)}</span>;
    else body = <span className="json-null">null</span>;
    return (
      <div className="json-line">
        {key}
        {body}
      </div>
    );
  }

  const isArray = Array.isArray(value);
  const count = isArray ? value.length : Object.keys(value as object).length;
  // only the shown page is materialised: a million-item array costs one slice
  const entries: [string, unknown][] = open
    ? isArray
      ? value.slice(0, limit).map((v, i) => [String(i), v])
      : Object.entries(value as object).slice(0, limit)
    : [];
  const [openB, closeB] = isArray ? ["[", "]"] : ["{", "}"];
  if (count === 0) {
    return (
      <div className="json-line">
        {key}
        <span className="json-punct">{openB + closeB}</span>
      </div>
    );
  }
  return (
    <div className="json-node">
      <div className="json-line">
        <button
          type="button"
          className="json-toggle"
          aria-expanded={open}
          aria-label={open ? `Collapse ${name ?? "value"}` : `Expand ${name ?? "value"}`}
          onClick={() => setOpen((o) => !o)}
        >
          {open ? "▾" : "▸"}
        </button>
        {key}
        <span className="json-punct">{openB}</span>
        {!open ? (
          <span className="json-summary">
            {" "}
            {count.toLocaleString("en-US")} {isArray ? "items" : "keys"} {closeB}
          </span>
        ) : null}
      </div>
      {open ? (
        <div className="json-children">
          {entries.map(([k, v]) => (
            <JsonNode key={k} name={isArray ? undefined : k} value={v} depth={depth + 1} openDepth={openDepth} />
          ))}
          {count > limit ? (
            <button type="button" className="json-more" onClick={() => setLimit((l) => l + ENTRY_PAGE * 4)}>
              show more ({(count - limit).toLocaleString("en-US")} more)
            </button>
          ) : null}
          <div className="json-punct">{closeB}</div>
        </div>
      ) : null}
    </div>
  );
}
