import { getBatchMetrics } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { toMetricsJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/batches/[id]/metrics – throughput, duration percentiles and cost per time bucket
export const GET = route("GET /api/batches/{id}/metrics", async ({ params, query }) =>
  toMetricsJson(await getBatchMetrics(params.id, query.bucket)),
);
