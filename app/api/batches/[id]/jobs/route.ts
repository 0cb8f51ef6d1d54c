import { listJobs } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { idParams, listJobsQuery } from "@/lib/api/schemas";
import { toJobJson, toPage } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/batches/[id]/jobs – the batch's jobs, filtered by status and q, by ordinal or finish time
export const GET = route({ scope: "read", params: idParams, query: listJobsQuery }, async ({ params, query }) =>
  toPage(await listJobs(params.id, query), toJobJson),
);
