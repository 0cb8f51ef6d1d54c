"use client";
// The batch's metrics over time, from GET /api/batches/{id}/metrics.
import { Area, AreaChart, Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Metrics } from "@/lib/client/types";

const tick = { fontSize: 11, fill: "var(--muted)" };
const timeLabel = (t: string) => new Date(t).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const tooltipStyle = { background: "var(--surface)", border: "1px solid var(--border)", borderRadius: 6, fontSize: 12, color: "var(--text)" };

export function BatchCharts({ metrics }: { metrics: Metrics }) {
  const data = metrics.series.map((p) => ({ ...p, label: timeLabel(p.t) }));
  if (!data.length) {
    return <p className="muted chart-empty">No finished jobs yet: charts appear once jobs complete.</p>;
  }
  return (
    <div className="charts">
      <figure className="chart card" aria-label="Throughput over time">
        <figcaption>Throughput (jobs per {metrics.bucket_seconds}s)</figcaption>
        <ResponsiveContainer width="100%" height={180}>
          <BarChart data={data} margin={{ top: 6, right: 8, bottom: 0, left: -18 }}>
            <CartesianGrid stroke="var(--border)" vertical={false} />
            <XAxis dataKey="label" tick={tick} minTickGap={24} />
            <YAxis tick={tick} allowDecimals={false} />
            <Tooltip contentStyle={tooltipStyle} cursor={{ fill: "var(--surface-2)" }} />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            <Bar dataKey="succeeded" stackId="a" fill="var(--ok)" isAnimationActive={false} />
            <Bar dataKey="failed" stackId="a" fill="var(--err)" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </figure>
      <figure className="chart card" aria-label="Job duration percentiles">
        <figcaption title="from a duration histogram: each value is the upper bound of its bucket">Duration p50 / p95 (ms, bucket bound)</figcaption>
        <ResponsiveContainer width="100%" height={180}>
          <LineChart data={data} margin={{ top: 6, right: 8, bottom: 0, left: -12 }}>
            <CartesianGrid stroke="var(--border)" vertical={false} />
            <XAxis dataKey="label" tick={tick} minTickGap={24} />
            <YAxis tick={tick} />
            <Tooltip contentStyle={tooltipStyle} />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            <Line dataKey="p50_ms" name="p50" stroke="var(--info)" dot={false} connectNulls isAnimationActive={false} />
            <Line dataKey="p95_ms" name="p95" stroke="var(--warn)" dot={false} connectNulls isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      </figure>
      <figure className="chart card" aria-label="Cumulative cost">
        <figcaption>Cumulative cost ($)</figcaption>
        <ResponsiveContainer width="100%" height={180}>
          <AreaChart data={data} margin={{ top: 6, right: 8, bottom: 0, left: -12 }}>
            <CartesianGrid stroke="var(--border)" vertical={false} />
            <XAxis dataKey="label" tick={tick} minTickGap={24} />
            <YAxis tick={tick} />
            <Tooltip contentStyle={tooltipStyle} />
            <Area dataKey="cumulative_cost" name="cost" stroke="var(--accent)" fill="var(--accent)" fillOpacity={0.15} isAnimationActive={false} />
          </AreaChart>
        </ResponsiveContainer>
      </figure>
    </div>
  );
}
