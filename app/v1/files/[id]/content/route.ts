import { fileContent } from "@/lib/openai/files";
import { v1Route } from "@/lib/openai/http";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /v1/files/[id]/content – the file's lines, streamed (output and error files generated from the results)
export const GET = v1Route("GET /v1/files/{id}/content", async ({ params }) => fileContent(params.id));
