import { resumeBatch } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { toBatchJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /api/batches/[id]/resume – resume a paused batch
export const POST = route("POST /api/batches/{id}/resume", async ({ params }) => toBatchJson(await resumeBatch(params.id)));
