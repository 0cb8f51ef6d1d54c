import { route } from "@/lib/api/handler";
import { runWorkerFor } from "@/lib/worker/worker";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";
export const maxDuration = 300;

// POST /api/worker/run – process jobs for a bounded time (cron-driven, serverless deployments); the
// bearer is BATCHBOARD_WORKER_SECRET (the registry's "secret" access), and without one the route is a 404
export const POST = route("POST /api/worker/run", async ({ body }) => {
  const { processed } = await runWorkerFor(body.max_ms);
  return { processed };
});
