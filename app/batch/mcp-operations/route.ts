import { route } from "@/lib/api/handler";
import { submitOperationsJob } from "@/lib/job-queue/jobs";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /batch/mcp-operations – read, list, write files and run commands in the workspace (a batch of the files flow)
export const POST = route("POST /batch/mcp-operations", async ({ body }) => submitOperationsJob(body.operations, body.parallel));
