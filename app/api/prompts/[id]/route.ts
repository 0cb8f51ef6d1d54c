import { getPrompt } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { idParams } from "@/lib/api/schemas";
import { toPromptJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/prompts/[id] – one prompt with its record
export const GET = route({ scope: "read", params: idParams }, async ({ params }) => toPromptJson(await getPrompt(params.id)));
