import { errorResponse } from "@/lib/api/errors";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// ANY /batch/[...slug] – an unknown /batch path gets the standard 404 body, not the HTML page
function notFound(request: Request) {
  return errorResponse("not_found", `no job API route at ${request.method} ${new URL(request.url).pathname}`, [
    { message: "see /api/openapi.json for the routes" },
  ]);
}
export const GET = notFound;
export const POST = notFound;
export const PUT = notFound;
export const PATCH = notFound;
export const DELETE = notFound;
