import { route } from "@/lib/api/handler";
import { submitCommandJob } from "@/lib/job-queue/jobs";
import { submitTestsSchema } from "@/lib/job-queue/schemas";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /batch/tests – run a test command per module path in the workspace (a batch of the command flow)
export const POST = route({ scope: "write", body: submitTestsSchema }, async ({ body }) =>
  submitCommandJob("batch_tests", body.modules, body.test_command, body.parallel),
);
