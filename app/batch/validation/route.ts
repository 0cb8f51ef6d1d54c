import { route } from "@/lib/api/handler";
import { submitCommandJob } from "@/lib/job-queue/jobs";
import { submitValidationSchema } from "@/lib/job-queue/schemas";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /batch/validation – run a check command per target path in the workspace (a batch of the command flow)
export const POST = route({ scope: "write", body: submitValidationSchema }, async ({ body }) =>
  submitCommandJob("batch_validation", body.targets, body.check_command, body.parallel),
);
