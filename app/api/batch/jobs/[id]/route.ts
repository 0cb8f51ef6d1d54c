import { route } from "@/lib/api/handler";
import { cancelEmbedJob, getEmbedJob } from "@/lib/embed-jobs/jobs";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/batch/jobs/[id] – one embedding job: status, progress, timing, metadata
export const GET = route("GET /api/batch/jobs/{id}", async ({ params }) => getEmbedJob(params.id));

// DELETE /api/batch/jobs/[id] – cancel a pending or running embedding job (404 once it has finished)
export const DELETE = route("DELETE /api/batch/jobs/{id}", async ({ params }) => cancelEmbedJob(params.id));
