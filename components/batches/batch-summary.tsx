"use client";
// What a batch's results say, from GET /api/batches/{id}/summary: a label-like field's distribution
// as bars (picked automatically for classify and review, or by hand), numeric fields as small
// histograms, and a partial-success reading when some records failed without stopping the batch.
import { memo, useMemo, useState } from "react";
import { Bar, BarChart, CartesianGrid, Cell, LabelList, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { chartTick, chartTooltipStyle } from "@/components/ui/charts";
import { formatCost, formatCount, formatMs } from "@/lib/client/format";
import { formatShare } from "@/lib/client/outcome";
import { useSummary } from "@/lib/client/hooks";
import type { SummaryInput } from "@/lib/client/api";
import type { Batch, BatchSummary } from "@/lib/client/types";
import { useHeldWhileScrolling } from "@/lib/client/scroll-activity";
import { autoStatsFields } from "@/lib/contract/summary-fields";

type Field = BatchSummary["fields"][number];

const valueText = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
const short = (v: number) => String(+v.toPrecision(2));
// a bin is named by where it starts (the tooltip gives its range); one-integer bins by their value
const binLabel = (from: number, to: number) => (Number.isInteger(from) && to - from === 1 ? String(from) : short(from));
const binRange = (from: number, to: number) => (Number.isInteger(from) && to - from === 1 ? String(from) : `${short(from)} to ${short(to)}`);

export const BatchSummaryPanel = memo(function BatchSummaryPanel({ batch, poll }: { batch: Batch; poll: boolean }) {
  const [picked, setPicked] = useState<string | null>(null);
  const [fields, setFields] = useState<Field[]>([]);
  const numeric = useMemo(() => autoStatsFields(fields), [fields]);
  // until a field is picked the summary chooses the label-like and numeric fields itself (auto), from
  // the fields it finds in the same read: one request, where asking for the fields first and then
  // for them was two scans of every result (seconds each on a batch of a million)
  const input = useMemo<SummaryInput>(() => (picked ? { group_by: [picked], stats: numeric } : { group_by: [], stats: [], auto: true }), [picked, numeric]);
  const summary = useSummary(batch.id, input, poll);
  // an answer arriving while the jobs table scrolls is drawn once it rests (in bench/pages a 117 ms frame followed one)
  const s = useHeldWhileScrolling(summary.data);
  const labelField = picked ?? s?.group_by[0]?.field ?? null;
  // the fields come with every answer: a picked field's request asks for the numeric ones found
  const known = summary.data?.fields;
  if (known && JSON.stringify(known.map((f) => [f.field, f.types])) !== JSON.stringify(fields.map((f) => [f.field, f.types]))) setFields(known);

  if (!s) {
    return summary.isError ? <p className="muted chart-empty">Summary unavailable: {(summary.error as Error).message}</p> : null;
  }
  const dist = s.group_by.find((g) => g.field === labelField);
  const ran = s.counts.succeeded + s.counts.failed;
  return (
    <section className="card result-summary" aria-label="Results summary">
      <div className="result-summary-head">
        <h2>Results</h2>
        <p className="muted small result-summary-facts">
          {formatCount(ran)} of {formatCount(s.counts.total)} ran · retries used {formatCount(s.retries_used)} · mean cost{" "}
          {formatCost(s.cost.mean_per_record)} per record
          {s.duration_ms.count ? ` · duration p50 ${formatMs(s.duration_ms.p50)}, p95 ${formatMs(s.duration_ms.p95)}` : ""}
        </p>
        {s.fields.length ? (
          <label className="inline-field">
            <span>Field</span>
            <select aria-label="Result field" value={labelField ?? ""} onChange={(e) => setPicked(e.target.value || null)}>
              {labelField && !s.fields.some((f) => f.field === labelField) ? <option value={labelField}>{labelField}</option> : null}
              {s.fields.map((f) => (
                <option key={f.field} value={f.field}>
                  {f.field}
                </option>
              ))}
            </select>
          </label>
        ) : null}
      </div>
      {s.partial_success ? (
        <p className="partial-success" role="note">
          Partial success: {formatCount(s.partial_success.failed)} of {formatCount(s.partial_success.succeeded + s.partial_success.failed)} records failed (
          {formatShare(s.partial_success.failure_rate * 100)})
          {s.partial_success.threshold !== null ? `, under the ${formatShare(s.partial_success.threshold * 100)} error threshold` : ""}; the{" "}
          {formatCount(s.partial_success.succeeded)} that succeeded are in the results.
        </p>
      ) : null}
      {summary.isError ? <p className="field-error">{(summary.error as Error).message}</p> : null}
      <div className="result-charts">
        {dist ? <Distribution dist={dist} /> : <p className="muted chart-empty">{ran ? "No label-like field in the results." : "No results yet."}</p>}
        {s.stats.map((st) => (
          <Histogram key={st.field} stats={st} />
        ))}
      </div>
    </section>
  );
});

function Distribution({ dist }: { dist: BatchSummary["group_by"][number] }) {
  const data = [
    ...dist.values.map((v) => ({ label: valueText(v.value), count: v.count, other: false })),
    ...(dist.other ? [{ label: "other", count: dist.other, other: true }] : []),
  ];
  if (!data.length) return <p className="muted chart-empty">No values of {dist.field} yet.</p>;
  return (
    <figure className="chart result-chart" aria-label={`Distribution of ${dist.field}`}>
      <figcaption>
        {dist.field} <span className="muted">({formatCount(dist.present)} values{dist.missing ? `, ${formatCount(dist.missing)} without` : ""})</span>
      </figcaption>
      <ResponsiveContainer width="100%" height={200}>
        <BarChart data={data} margin={{ top: 18, right: 8, bottom: 0, left: -18 }}>
          <CartesianGrid stroke="var(--border)" vertical={false} />
          <XAxis dataKey="label" tick={chartTick} interval={0} />
          <YAxis tick={chartTick} allowDecimals={false} />
          <Tooltip contentStyle={chartTooltipStyle} cursor={{ fill: "var(--surface-2)" }} />
          <Bar dataKey="count" isAnimationActive={false}>
            {data.map((d) => (
              <Cell key={d.label} fill={d.other ? "var(--muted)" : "var(--accent)"} />
            ))}
            <LabelList dataKey="count" position="top" style={{ fontSize: 11, fill: "var(--text)" }} />
          </Bar>
        </BarChart>
      </ResponsiveContainer>
      <table className="visually-hidden">
        <caption>{dist.field} values and counts</caption>
        <tbody>
          {data.map((d) => (
            <tr key={d.label}>
              <th scope="row">{d.label}</th>
              <td>{d.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

function Histogram({ stats: st }: { stats: BatchSummary["stats"][number] }) {
  if (!st.count) return null;
  const data = st.histogram.map((b) => ({ label: binLabel(b.from, b.to), range: binRange(b.from, b.to), count: b.count }));
  const n = (v: number | null) => (v === null ? "—" : String(+v.toPrecision(4)));
  return (
    <figure className="chart result-chart result-histogram" aria-label={`Histogram of ${st.field}`}>
      <figcaption>
        {st.field} <span className="muted">mean {n(st.mean)} · p50 {n(st.p50)} · p95 {n(st.p95)}</span>
      </figcaption>
      <ResponsiveContainer width="100%" height={120}>
        <BarChart data={data} margin={{ top: 6, right: 8, bottom: 0, left: -18 }} barCategoryGap={1}>
          <XAxis dataKey="label" tick={chartTick} minTickGap={8} />
          <YAxis tick={chartTick} allowDecimals={false} />
          <Tooltip
            contentStyle={chartTooltipStyle}
            cursor={{ fill: "var(--surface-2)" }}
            labelFormatter={(_, payload) => (payload?.[0]?.payload as { range?: string } | undefined)?.range ?? ""}
          />
          <Bar dataKey="count" fill="var(--info)" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
