import { listPrompts } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { toPage, toPromptJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/prompts – prompts oldest first, filtered by status and batch
export const GET = route("GET /api/prompts", async ({ query }) =>
  toPage(await listPrompts({ status: query.status, batchId: query.batch_id, cursor: query.cursor, limit: query.limit }), toPromptJson),
);
