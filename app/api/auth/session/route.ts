import { json, route } from "@/lib/api/handler";
import { authEnabled } from "@/lib/auth/authorize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/auth/session – who the caller is, and whether auth is on (the dashboard's banner and sign-in state)
export const GET = route("GET /api/auth/session", async ({ principal }) =>
  json({ auth: authEnabled() ? "on" : "off", name: principal.name, scopes: principal.scopes, via: principal.via }),
);
