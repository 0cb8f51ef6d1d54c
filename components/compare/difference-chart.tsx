"use client";
// How much a number changed from A to B, record by record: a histogram of B − A.
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { chartTick, chartTooltipStyle } from "@/components/ui/charts";

const short = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(2));

export function DifferenceChart({ histogram }: { histogram: { from: number; to: number; count: number }[] }) {
  const data = histogram.map((h) => ({ label: `${short(h.from)} to ${short(h.to)}`, records: h.count }));
  return (
    <ResponsiveContainer width="100%" height={180}>
      <BarChart data={data} margin={{ top: 6, right: 8, bottom: 0, left: -18 }}>
        <CartesianGrid stroke="var(--border)" vertical={false} />
        <XAxis dataKey="label" tick={chartTick} minTickGap={12} />
        <YAxis tick={chartTick} allowDecimals={false} />
        <Tooltip contentStyle={chartTooltipStyle} cursor={{ fill: "var(--surface-2)" }} />
        <Bar dataKey="records" fill="var(--accent)" isAnimationActive={false} />
      </BarChart>
    </ResponsiveContainer>
  );
}
