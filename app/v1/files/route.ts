import { uploadFile, listFiles } from "@/lib/openai/files";
import { v1Route } from "@/lib/openai/http";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /v1/files – upload a Batch input file (multipart: file, purpose=batch), streamed into a dataset
export const POST = v1Route("POST /v1/files", async ({ request }) => uploadFile(request));

// GET /v1/files – files, newest first (?purpose=&limit=&order=&after=)
export const GET = v1Route("GET /v1/files", async ({ query }) => listFiles(query));
