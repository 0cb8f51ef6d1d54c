import { route } from "@/lib/api/handler";
import { queueStats } from "@/lib/job-queue/jobs";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /batch/stats – the job queue's jobs by status
export const GET = route("GET /batch/stats", async () => queueStats());
