import { v1ErrorResponse } from "@/lib/openai/http";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// ANY /v1/[...slug] – an unknown /v1 path gets the /v1 error body, not the HTML page
function notFound(request: Request) {
  const { pathname } = new URL(request.url);
  return v1ErrorResponse("not_found", `Batchboard serves the Batch API under /v1 (files and batches); there is no ${request.method} ${pathname}`, [
    { message: "see /api/openapi.json for the routes" },
  ]);
}
export const GET = notFound;
export const POST = notFound;
export const PUT = notFound;
export const PATCH = notFound;
export const DELETE = notFound;
