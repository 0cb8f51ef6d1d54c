import { getBatchSummary } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { resultPath } from "@/lib/contract/batches";
import { toBatchSummaryJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const field = (path: string) => ({ path, keys: resultPath(path) });

// GET /api/batches/[id]/summary – counts, retries, cost and durations, and chosen result fields' distributions and stats
export const GET = route("GET /api/batches/{id}/summary", async ({ params, query }) =>
  toBatchSummaryJson(
    await getBatchSummary(params.id, { groupBy: query.group_by?.map(field), stats: query.stats?.map(field), top: query.top, auto: query.auto }),
  ),
);
