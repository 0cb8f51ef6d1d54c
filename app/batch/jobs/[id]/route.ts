import { route } from "@/lib/api/handler";
import { cancelQueueJob, getQueueJob } from "@/lib/job-queue/jobs";
import { jobIdParams } from "@/lib/job-queue/schemas";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /batch/jobs/[id] – one job: status, progress, and every item's result once finished
export const GET = route({ scope: "read", params: jobIdParams }, async ({ params }) => getQueueJob(params.id));

// DELETE /batch/jobs/[id] – cancel a queued or running job (409 once finished)
export const DELETE = route({ scope: "write", params: jobIdParams }, async ({ params }) => cancelQueueJob(params.id));
