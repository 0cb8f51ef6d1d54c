import { route } from "@/lib/api/handler";
import { submitAgentJob } from "@/lib/job-queue/jobs";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /batch/agent-tasks – coding tasks done by a coder and a reviewer model in the workspace (a batch of the agent flow)
export const POST = route("POST /batch/agent-tasks", async ({ body }) => submitAgentJob(body));
