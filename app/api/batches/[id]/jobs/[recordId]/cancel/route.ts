import { cancelJob } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { jobParams } from "@/lib/api/schemas";
import { toJobDetailJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /api/batches/[id]/jobs/[recordId]/cancel – cancel this one job
export const POST = route({ scope: "write", params: jobParams }, async ({ params }) =>
  toJobDetailJson(await cancelJob(params.id, params.recordId)),
);
