// The one answer to an unknown path under /api, /batch and /v1: a 404 in the error body that carries
// ours and OpenAI's fields in one ({ code, message, details, type, param }), so our clients and the
// OpenAI SDKs both read it, never the HTML page.
import "server-only";
import { v1ErrorResponse } from "@/lib/openai/http";

export function unknownRoute(request: Request): Response {
  return v1ErrorResponse("not_found", `no API route at ${request.method} ${new URL(request.url).pathname}`, [
    { message: "see /api/openapi.json for the routes" },
  ]);
}
