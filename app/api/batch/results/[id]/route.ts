import { route } from "@/lib/api/handler";
import { embedResults } from "@/lib/embed-jobs/jobs";
import { jobIdParams } from "@/lib/embed-jobs/schemas";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/batch/results/[id] – an embedding job's embeddings in document order, its errors and counts (streamed JSON)
export const GET = route({ scope: "read", params: jobIdParams }, async ({ params }) =>
  new Response(await embedResults(params.id), { headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" } }),
);
