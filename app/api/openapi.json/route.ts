import { route } from "@/lib/api/handler";
import { openApiDocument } from "@/lib/api/openapi";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/openapi.json – the OpenAPI 3.1 document, generated from the API's zod schemas
export const GET = route("GET /api/openapi.json", async () => openApiDocument());
