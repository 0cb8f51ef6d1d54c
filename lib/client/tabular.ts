// Whether records read as a table: every one a flat object (no nested object or array values), as
// CSV rows and most JSONL are. The columns are the keys in the order they first appear.

export const MAX_TABLE_COLUMNS = 20;

export function tabularColumns(rows: unknown[]): string[] | null {
  if (!rows.length) return null;
  const columns = new Set<string>();
  for (const row of rows) {
    if (row === null || typeof row !== "object" || Array.isArray(row)) return null;
    for (const [k, v] of Object.entries(row)) {
      if (v !== null && typeof v === "object") return null;
      columns.add(k);
    }
  }
  if (columns.size === 0 || columns.size > MAX_TABLE_COLUMNS) return null;
  return [...columns];
}

/** A flat value as a cell's text: strings as they are, the rest as JSON, a missing key empty. */
export function cellText(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}
