import { getPrompt } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { toPromptJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/prompts/[id] – one prompt with its record
export const GET = route("GET /api/prompts/{id}", async ({ params }) => toPromptJson(await getPrompt(params.id)));
