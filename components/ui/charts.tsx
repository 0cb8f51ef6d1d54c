"use client";
// Chart pieces shared by the batch page and the workers page.
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export const chartTick = { fontSize: 11, fill: "var(--muted)" };
const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });
/** Y axis ticks short enough to leave room for the axis label: 24K, not 24000 */
export const compactTick = (v: number) => compact.format(v);
export const chartTooltipStyle = { background: "var(--surface)", border: "1px solid var(--border)", borderRadius: 6, fontSize: 12, color: "var(--text)" };

/** Succeeded and failed jobs per time bucket, stacked. */
export function SucceededFailedBars({
  data,
  height,
  unit,
}: {
  data: { label: string; succeeded: number; failed: number }[];
  height: number;
  /** what one bar counts, on the Y axis and in the tooltip ("jobs/min") */
  unit?: string;
}) {
  return (
    <ResponsiveContainer width="100%" height={height}>
      <BarChart data={data} margin={{ top: 6, right: 8, bottom: 0, left: -18 }}>
        <CartesianGrid stroke="var(--border)" vertical={false} />
        <XAxis dataKey="label" tick={chartTick} minTickGap={24} />
        <YAxis tick={chartTick} tickFormatter={compactTick} allowDecimals={false} label={unit ? { value: unit, angle: -90, position: "insideLeft", offset: 24, style: chartTick } : undefined} />
        <Tooltip contentStyle={chartTooltipStyle} cursor={{ fill: "var(--surface-2)" }} formatter={unit ? (v) => `${String(v)} ${unit}` : undefined} />
        <Legend wrapperStyle={{ fontSize: 12 }} />
        <Bar dataKey="succeeded" stackId="a" fill="var(--ok)" isAnimationActive={false} />
        <Bar dataKey="failed" stackId="a" fill="var(--err)" isAnimationActive={false} />
      </BarChart>
    </ResponsiveContainer>
  );
}
