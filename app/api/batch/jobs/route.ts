import { route } from "@/lib/api/handler";
import { listEmbedJobs } from "@/lib/embed-jobs/jobs";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/batch/jobs – embedding jobs not yet expired, newest first (?limit=, default 100, at most 1000)
export const GET = route("GET /api/batch/jobs", async ({ query }) => listEmbedJobs(query.limit));
