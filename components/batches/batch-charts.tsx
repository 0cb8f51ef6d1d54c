"use client";
// The batch's metrics over time, from GET /api/batches/{id}/metrics.
import { memo } from "react";
import { Area, AreaChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { SucceededFailedBars, chartTick as tick, chartTooltipStyle as tooltipStyle } from "@/components/ui/charts";
import type { Metrics } from "@/lib/client/types";

const timeLabel = (t: string) => new Date(t).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" });

export const BatchCharts = memo(function BatchCharts({ metrics }: { metrics: Metrics }) {
  // finished jobs per bucket, shown as a rate in jobs/min like every rate of the dashboard (formatRate)
  const perMinute = 60 / metrics.bucket_seconds;
  const rate = (n: number) => Math.round(n * perMinute * 10) / 10;
  const data = metrics.series.map((p) => ({ ...p, succeeded: rate(p.succeeded), failed: rate(p.failed), label: timeLabel(p.t) }));
  if (!data.length) {
    return <p className="muted chart-empty">No finished jobs yet: charts appear once jobs complete.</p>;
  }
  return (
    <div className="charts">
      <figure className="chart card" aria-label="Throughput over time">
        <figcaption title={`jobs finished in each ${metrics.bucket_seconds} s interval, as a rate`}>Throughput (jobs/min)</figcaption>
        <SucceededFailedBars data={data} height={180} unit="jobs/min" />
      </figure>
      <figure className="chart card" aria-label="Job duration percentiles">
        <figcaption title="the jobs that finished in each interval: their median and 95th percentile duration">Duration p50 / p95 (ms)</figcaption>
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
});
