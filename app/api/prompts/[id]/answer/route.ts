import { answerPrompt } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { toPromptJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /api/prompts/[id]/answer – answer an open prompt (validated against its input spec); the job resumes
export const POST = route("POST /api/prompts/{id}/answer", async ({ params, body, principal }) =>
  toPromptJson(await answerPrompt(params.id, body.answer, principal.name)),
);
