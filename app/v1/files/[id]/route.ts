import { deleteFile, getFile } from "@/lib/openai/files";
import { v1Route } from "@/lib/openai/http";
import { fileIdParams } from "@/lib/openai/schemas";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /v1/files/[id] – one file
export const GET = v1Route({ scope: "read", params: fileIdParams }, async ({ params }) => getFile(params.id));

// DELETE /v1/files/[id] – delete a file (an input file with its dataset)
export const DELETE = v1Route({ scope: "write", params: fileIdParams }, async ({ params }) => deleteFile(params.id));
