import { getFlowCounters, getStats, listWorkers } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { prometheusText } from "@/lib/api/prometheus";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/metrics – Prometheus text exposition: gauges (jobs and batches by status, queue depth, workers,
// throughput) and per-flow counters (jobs finished, attempts, interruptions, cost, a duration histogram)
export const GET = route("GET /api/metrics", async () => {
  const [stats, workers, flows] = await Promise.all([getStats(), listWorkers(), getFlowCounters()]);
  return new Response(prometheusText(stats, workers, flows), {
    headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Cache-Control": "no-store" },
  });
});
