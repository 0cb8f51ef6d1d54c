import { answerPrompt } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { answerPromptSchema, idParams } from "@/lib/api/schemas";
import { toPromptJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /api/prompts/[id]/answer – answer an open prompt (validated against its input spec); the job resumes
export const POST = route({ scope: "write", params: idParams, body: answerPromptSchema }, async ({ params, body, principal }) =>
  toPromptJson(await answerPrompt(params.id, body.answer, principal.name)),
);
