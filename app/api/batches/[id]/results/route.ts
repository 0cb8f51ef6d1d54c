import { getBatch, getBatchSummary, streamResults } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { RESULT_CONTENT_TYPES, resultsStream } from "@/lib/api/results";
import { resultsZipStream } from "@/lib/api/results-zip";
import { toBatchSummaryJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/batches/[id]/results – every record's outcome in source order, streamed as jsonl, csv, openai or a zip folder
export const GET = route("GET /api/batches/{id}/results", async ({ params, query }) => {
  const batch = await getBatch(params.id); // 404 before the stream starts
  if (query.format === "zip") {
    // records that ran (succeeded or failed) unless ?status= says otherwise
    const rows = streamResults(batch.id, { status: query.status?.length ? query.status : ["succeeded", "failed"] });
    const summary = async () => toBatchSummaryJson(await getBatchSummary(batch.id));
    return new Response(resultsZipStream(rows, { saveRaw: batch.saveRaw, summary }), {
      headers: {
        "Content-Type": "application/zip",
        "Content-Disposition": `attachment; filename="${batch.id}-results.zip"`,
        "Cache-Control": "no-store",
      },
    });
  }
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
