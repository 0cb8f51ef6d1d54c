import { getBatchMetrics } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { idParams, metricsQuery } from "@/lib/api/schemas";
import { toMetricsJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/batches/[id]/metrics – throughput, duration percentiles and cost per time bucket
export const GET = route({ scope: "read", params: idParams, query: metricsQuery }, async ({ params, query }) =>
  toMetricsJson(await getBatchMetrics(params.id, query.bucket)),
);
