import { getStats, listWorkers } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { prometheusText } from "@/lib/api/prometheus";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/metrics – Prometheus text exposition: jobs and batches by status, queue depth, workers, throughput
export const GET = route({ scope: "read" }, async () => {
  const [stats, workers] = await Promise.all([getStats(), listWorkers()]);
  return new Response(prometheusText(stats, workers), {
    headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8", "Cache-Control": "no-store" },
  });
});
