"use client";
// The comparison's summary: verdict counts (each a filter), the agreement rate, A and B side by side,
// the confusion matrix of a label-like field (each cell a filter) and the spread of a number's change.
import dynamic from "next/dynamic";
import Link from "next/link";
import { formatCost, formatCount, formatMs, formatStatus } from "@/lib/client/format";
import type { CompareSummary } from "@/lib/client/types";
import type { CompareFilter } from "./compare-view";

// recharts measures the DOM: render it in the browser only
const DifferenceChart = dynamic(() => import("./difference-chart").then((m) => m.DifferenceChart), {
  ssr: false,
  loading: () => <p className="muted chart-empty">Loading chart…</p>,
});

const VERDICT_LABELS = { same: "Same", different: "Different", only_a: "Only in A", only_b: "Only in B" } as const;

/** A JSON value as a short label ("positive", true, null, 0.5). */
export const valueLabel = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v ?? null));

export function CompareSummaryView({
  summary: s,
  filter,
  onFilter,
}: {
  summary: CompareSummary;
  filter: CompareFilter;
  onFilter: (f: CompareFilter) => void;
}) {
  const pct = s.agreement === null ? "—" : `${(s.agreement * 100).toFixed(1)}%`;
  return (
    <>
      <div className="stat-row compare-stats">
        <section className="card stat" aria-label="Agreement">
          <div className="stat-label">Agreement on {s.field}</div>
          <div className="stat-value">{pct}</div>
          <div className="muted small">of {formatCount(s.totals.same + s.totals.different)} records in both</div>
        </section>
        {(Object.keys(VERDICT_LABELS) as (keyof typeof VERDICT_LABELS)[]).map((v) => (
          <button
            key={v}
            type="button"
            className={`card stat stat-button verdict-${v}`}
            aria-pressed={filter.verdict === v && !filter.aValue}
            aria-label={`Show ${VERDICT_LABELS[v].toLowerCase()} records`}
            onClick={() => onFilter({ verdict: filter.verdict === v ? "" : v, aValue: "", bValue: "" })}
          >
            <span className="stat-label">{VERDICT_LABELS[v]}</span>
            <span className="stat-value">{formatCount(s.totals[v])}</span>
          </button>
        ))}
      </div>
      <div className="compare-grid">
        <SideBySide summary={s} />
        {s.matrix ? <Matrix summary={s} filter={filter} onFilter={onFilter} /> : null}
        {s.difference ? (
          <figure className="chart card" aria-label="Change from A to B">
            <figcaption>
              B − A on {s.field}: mean {s.difference.mean.toFixed(3)}, p50 {s.difference.p50.toFixed(3)}, p95 {s.difference.p95.toFixed(3)} over{" "}
              {formatCount(s.difference.count)} records
            </figcaption>
            <DifferenceChart histogram={s.difference.histogram} />
          </figure>
        ) : null}
      </div>
    </>
  );
}

function SideBySide({ summary: s }: { summary: CompareSummary }) {
  const rows: [string, (x: CompareSummary["a"]) => string][] = [
    ["Batch", (x) => x.name || x.flow],
    ["Status", (x) => formatStatus(x.status)],
    ["Records", (x) => formatCount(x.total)],
    ["Succeeded", (x) => formatCount(x.succeeded)],
    ["Failed", (x) => formatCount(x.failed)],
    ["Cancelled or skipped", (x) => formatCount(x.cancelled + x.skipped)],
    ["Cost", (x) => formatCost(x.cost)],
    ["Duration p50 / p95", (x) => `${formatMs(x.duration_ms.p50)} / ${formatMs(x.duration_ms.p95)}`],
  ];
  return (
    <section className="card" aria-label="A and B side by side">
      <table className="param-table compare-sides">
        <thead>
          <tr>
            <th />
            <th>
              A · <Link href={`/batches/${s.a.id}`}>{s.a.id}</Link>
            </th>
            <th>
              B · <Link href={`/batches/${s.b.id}`}>{s.b.id}</Link>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([label, get]) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              <td>{get(s.a)}</td>
              <td>{get(s.b)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Matrix({ summary: s, filter, onFilter }: { summary: CompareSummary; filter: CompareFilter; onFilter: (f: CompareFilter) => void }) {
  const cells = s.matrix ?? [];
  const key = (v: unknown) => JSON.stringify(v ?? null);
  const aValues = [...new Map(cells.map((c) => [key(c.a), c.a])).values()].sort((x, y) => valueLabel(x).localeCompare(valueLabel(y)));
  const bValues = [...new Map(cells.map((c) => [key(c.b), c.b])).values()].sort((x, y) => valueLabel(x).localeCompare(valueLabel(y)));
  const count = new Map(cells.map((c) => [`${key(c.a)}|${key(c.b)}`, c.count]));
  const max = Math.max(1, ...cells.map((c) => c.count));
  return (
    <section className="card compare-matrix" aria-label="Confusion matrix">
      <table aria-label={`A's ${s.field} by B's`}>
        <thead>
          <tr>
            <th scope="col" className="muted small">
              A ↓ · B →
            </th>
            {bValues.map((bv) => (
              <th key={key(bv)} scope="col">
                {valueLabel(bv)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {aValues.map((av) => (
            <tr key={key(av)}>
              <th scope="row">{valueLabel(av)}</th>
              {bValues.map((bv) => {
                const n = count.get(`${key(av)}|${key(bv)}`) ?? 0;
                const active = filter.aValue === key(av) && filter.bValue === key(bv);
                const agree = key(av) === key(bv);
                return (
                  <td key={key(bv)} className="num">
                    <button
                      type="button"
                      className={`matrix-cell${agree ? " is-agree" : ""}`}
                      style={{ ["--weight" as string]: String(n / max) }}
                      disabled={n === 0}
                      aria-pressed={active}
                      aria-label={`${formatCount(n)} records: A ${valueLabel(av)}, B ${valueLabel(bv)}`}
                      onClick={() => onFilter(active ? { verdict: "", aValue: "", bValue: "" } : { verdict: "", aValue: key(av), bValue: key(bv) })}
                    >
                      {formatCount(n)}
                    </button>
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
