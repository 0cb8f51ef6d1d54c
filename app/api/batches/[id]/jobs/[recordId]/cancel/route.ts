import { cancelJob } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { toJobDetailJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /api/batches/[id]/jobs/[recordId]/cancel – cancel this one job
export const POST = route("POST /api/batches/{id}/jobs/{recordId}/cancel", async ({ params }) =>
  toJobDetailJson(await cancelJob(params.id, params.recordId)),
);
