import { route } from "@/lib/api/handler";
import { listQueueJobs } from "@/lib/job-queue/jobs";
import { listJobsQuery } from "@/lib/job-queue/schemas";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /batch/jobs – jobs newest first, by status and job_type, with limit (default 100) and offset
export const GET = route({ scope: "read", query: listJobsQuery }, async ({ query }) => listQueueJobs(query));
