import { route } from "@/lib/api/handler";
import { submitCommandJob } from "@/lib/job-queue/jobs";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /batch/validation – run a check command per target path in the workspace (a batch of the command flow)
export const POST = route("POST /batch/validation", async ({ body }) =>
  submitCommandJob("batch_validation", body.targets, body.check_command, body.parallel),
);
