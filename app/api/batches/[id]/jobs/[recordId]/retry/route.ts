import { retryJob } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { toJobDetailJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /api/batches/[id]/jobs/[recordId]/retry – run this job again (a finished job is re-queued)
export const POST = route("POST /api/batches/{id}/jobs/{recordId}/retry", async ({ params }) =>
  toJobDetailJson(await retryJob(params.id, params.recordId)),
);
