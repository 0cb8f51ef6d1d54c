"use client";
// A column header that sorts the list by its key: a button inside the th, aria-sort on the th.
// Clicking the sorted column flips the order; another column starts descending (largest first).

export function SortHeader<K extends string>({
  label,
  sortKey,
  sort,
  order,
  onSort,
  className,
}: {
  label: string;
  sortKey: K;
  sort: K;
  order: "asc" | "desc";
  onSort: (key: K, order: "asc" | "desc") => void;
  className?: string;
}) {
  const active = sort === sortKey;
  const next = active && order === "desc" ? "asc" : "desc";
  return (
    <th className={className} aria-sort={active ? (order === "asc" ? "ascending" : "descending") : "none"}>
      <button
        type="button"
        className="sort-button"
        onClick={() => onSort(sortKey, next)}
        title={`Sort by ${label.toLowerCase()}, ${next === "desc" ? "largest" : "smallest"} first`}
      >
        {label}
        <span aria-hidden className={active ? "sort-mark" : "sort-mark sort-mark-idle"}>
          {active ? (order === "asc" ? "▲" : "▼") : "▼"}
        </span>
      </button>
    </th>
  );
}
