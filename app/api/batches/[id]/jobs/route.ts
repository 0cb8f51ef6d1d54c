import { listJobs } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { toJobJson, toPage } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/batches/[id]/jobs – the batch's jobs, filtered by status and q, by ordinal or finish time
export const GET = route("GET /api/batches/{id}/jobs", async ({ params, query }) =>
  toPage(await listJobs(params.id, query), toJobJson),
);
