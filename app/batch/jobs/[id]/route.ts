import { route } from "@/lib/api/handler";
import { cancelQueueJob, getQueueJob } from "@/lib/job-queue/jobs";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /batch/jobs/[id] – one job: status, progress, and every item's result once finished
export const GET = route("GET /batch/jobs/{id}", async ({ params }) => getQueueJob(params.id));

// DELETE /batch/jobs/[id] – cancel a queued or running job (409 once finished)
export const DELETE = route("DELETE /batch/jobs/{id}", async ({ params }) => cancelQueueJob(params.id));
