import { resumeBatch } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { idParams } from "@/lib/api/schemas";
import { toBatchJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /api/batches/[id]/resume – resume a paused batch
export const POST = route({ scope: "write", params: idParams }, async ({ params }) => toBatchJson(await resumeBatch(params.id)));
