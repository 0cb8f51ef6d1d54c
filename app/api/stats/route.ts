import { getStats } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { toStatsJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/stats – totals by status, active batches, queue depth, live workers, throughput
export const GET = route({ scope: "read" }, async () => toStatsJson(await getStats()));
