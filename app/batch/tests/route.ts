import { route } from "@/lib/api/handler";
import { submitCommandJob } from "@/lib/job-queue/jobs";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /batch/tests – run a test command per module path in the workspace (a batch of the command flow)
export const POST = route("POST /batch/tests", async ({ body }) =>
  submitCommandJob("batch_tests", body.modules, body.test_command, body.parallel),
);
