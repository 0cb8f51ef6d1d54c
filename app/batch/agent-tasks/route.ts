import { route } from "@/lib/api/handler";
import { submitAgentJob } from "@/lib/job-queue/jobs";
import { submitAgentTasksSchema } from "@/lib/job-queue/schemas";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /batch/agent-tasks – coding tasks done by a coder and a reviewer model in the workspace (a batch of the agent flow)
export const POST = route({ scope: "write", body: submitAgentTasksSchema }, async ({ body }) => submitAgentJob(body));
