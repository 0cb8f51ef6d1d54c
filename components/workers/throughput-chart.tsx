"use client";

import { SucceededFailedBars } from "@/components/ui/charts";

export function ThroughputChart({ series }: { series: { t: string; succeeded: number; failed: number }[] }) {
  if (!series.length) return <p className="muted chart-empty">No jobs finished in the last hour.</p>;
  const data = series.map((p) => ({ ...p, label: new Date(p.t).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" }) }));
  return <SucceededFailedBars data={data} height={200} unit="jobs/min" />;
}
