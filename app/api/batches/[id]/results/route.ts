import { getBatch, streamResults } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { RESULT_CONTENT_TYPES, resultsStream } from "@/lib/api/results";
import { idParams, resultsQuery } from "@/lib/api/schemas";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/batches/[id]/results – every record's outcome in source order, streamed as jsonl, csv or openai
export const GET = route({ scope: "read", params: idParams, query: resultsQuery }, async ({ params, query }) => {
  const batch = await getBatch(params.id); // 404 before the stream starts
  const rows = streamResults(batch.id, { status: query.status });
  const ext = query.format === "csv" ? "csv" : "jsonl";
  return new Response(resultsStream(rows, query.format, batch.id), {
    headers: {
      "Content-Type": RESULT_CONTENT_TYPES[query.format],
      "Content-Disposition": `attachment; filename="${batch.id}-results${query.format === "openai" ? "-openai" : ""}.${ext}"`,
      "Cache-Control": "no-store",
    },
  });
});
