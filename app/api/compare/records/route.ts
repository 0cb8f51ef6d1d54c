import { route } from "@/lib/api/handler";
import { comparisonStream, toComparedRecordJson } from "@/lib/api/compare";
import { resultPath } from "@/lib/contract/batches";
import { toPage } from "@/lib/api/serialize";
import { allComparedRecords, assertComparable, compareRecords } from "@/lib/engine/compare";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/compare/records – the compared records by record id: a page (json) or all of them streamed (jsonl, csv)
export const GET = route("GET /api/compare/records", async ({ query }) => {
  const target = { a: query.a, b: query.b, path: resultPath(query.field) };
  const filter = { verdict: query.verdict, aValue: query.a_value, bValue: query.b_value };
  if (query.format === "json") return toPage(await compareRecords(target, filter, query), toComparedRecordJson);
  await assertComparable(target); // a missing batch is a 404 before the stream starts
  return new Response(comparisonStream(allComparedRecords(target, filter), query.format), {
    headers: {
      "Content-Type": query.format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
      "Content-Disposition": `attachment; filename="compare-${query.a}-${query.b}.${query.format}"`,
      "Cache-Control": "no-store",
    },
  });
});
