import { getStats } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { toStatsJson } from "@/lib/api/serialize";
import { embedJobStats } from "@/lib/embed-jobs/jobs";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/stats – totals by status, active batches, queue depth, live workers, throughput, and the /api/batch embedding jobs
export const GET = route("GET /api/stats", async () => {
  const [stats, batchJobs] = await Promise.all([getStats(), embedJobStats()]);
  return toStatsJson(stats, batchJobs);
});
