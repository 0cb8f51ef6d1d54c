import { route } from "@/lib/api/handler";
import { listQueueJobs } from "@/lib/job-queue/jobs";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /batch/jobs – jobs newest first, by status and job_type, with limit (default 100) and offset
export const GET = route("GET /batch/jobs", async ({ query }) => listQueueJobs(query));
