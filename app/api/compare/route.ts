import { route } from "@/lib/api/handler";
import { toCompareSummaryJson } from "@/lib/api/compare";
import { resultPath } from "@/lib/contract/batches";
import { compareSummary } from "@/lib/engine/compare";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/compare – two batches compared on a result field: totals, agreement, matrix, differences, cost and time
export const GET = route("GET /api/compare", async ({ query }) =>
  toCompareSummaryJson(query.field, await compareSummary({ a: query.a, b: query.b, path: resultPath(query.field) }, query.field)),
);
