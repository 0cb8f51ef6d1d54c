import { getJob } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { toJobDetailJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/batches/[id]/jobs/[recordId] – one job: record, result, error, logs and prompts
export const GET = route("GET /api/batches/{id}/jobs/{recordId}", async ({ params }) =>
  toJobDetailJson(await getJob(params.id, params.recordId)),
);
