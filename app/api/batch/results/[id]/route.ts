import { route } from "@/lib/api/handler";
import { embedResults } from "@/lib/embed-jobs/jobs";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/batch/results/[id] – an embedding job's embeddings in document order, its errors and counts (streamed JSON)
export const GET = route("GET /api/batch/results/{id}", async ({ params }) =>
  new Response(await embedResults(params.id), { headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" } }),
);
