import { deleteFile, getFile } from "@/lib/openai/files";
import { v1Route } from "@/lib/openai/http";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /v1/files/[id] – one file
export const GET = v1Route("GET /v1/files/{id}", async ({ params }) => getFile(params.id));

// DELETE /v1/files/[id] – delete a file (an input file with its dataset)
export const DELETE = v1Route("DELETE /v1/files/{id}", async ({ params }) => deleteFile(params.id));
