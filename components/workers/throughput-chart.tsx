"use client";

import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

const tick = { fontSize: 11, fill: "var(--muted)" };
const tooltipStyle = { background: "var(--surface)", border: "1px solid var(--border)", borderRadius: 6, fontSize: 12, color: "var(--text)" };

export function ThroughputChart({ series }: { series: { t: string; succeeded: number; failed: number }[] }) {
  if (!series.length) return <p className="muted chart-empty">No jobs finished in the last hour.</p>;
  const data = series.map((p) => ({ ...p, label: new Date(p.t).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" }) }));
  return (
    <ResponsiveContainer width="100%" height={200}>
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
  );
}
