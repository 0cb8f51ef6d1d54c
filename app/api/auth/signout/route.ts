import { json, route } from "@/lib/api/handler";
import { clearedSessionCookie } from "@/lib/auth/session";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /api/auth/signout – clear the dashboard session cookie
export const POST = route({ scope: "public" }, async () => json({ signed_out: true }, 200, { "Set-Cookie": clearedSessionCookie() }));
