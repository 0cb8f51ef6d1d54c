import { json, route } from "@/lib/api/handler";
import { revokeApiKey } from "@/lib/auth/keys";
import { toKeyJson } from "@/lib/api/keys";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// DELETE /api/keys/[id] – revoke a key (sessions signed in with it end too)
export const DELETE = route("DELETE /api/keys/{id}", async ({ params }) =>
  json(toKeyJson(await revokeApiKey(params.id))),
);
