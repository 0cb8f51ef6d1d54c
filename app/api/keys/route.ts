import { json, route } from "@/lib/api/handler";
import { toKeyJson } from "@/lib/api/keys";
import { createApiKey, listApiKeys } from "@/lib/auth/keys";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/keys – API keys (never the keys themselves), newest first
export const GET = route("GET /api/keys", async () => json({ items: (await listApiKeys()).map(toKeyJson) }));

// POST /api/keys – create a key; the response is the only time the key is shown
export const POST = route("POST /api/keys", async ({ body }) => {
  const { key, info } = await createApiKey(body);
  return json({ ...toKeyJson(info), key }, 201);
});
