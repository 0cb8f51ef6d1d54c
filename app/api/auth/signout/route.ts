import { json, route } from "@/lib/api/handler";
import { requireSameOrigin } from "@/lib/auth/authorize";
import { SESSION_COOKIE, clearedSessionCookie, endSession, readCookie } from "@/lib/auth/session";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /api/auth/signout – end the dashboard session on the server and clear its cookie
export const POST = route("POST /api/auth/signout", async ({ request }) => {
  const cookie = readCookie(request, SESSION_COOKIE);
  // a mutation carried by the cookie, like any other: only from the dashboard's own origin (CSRF)
  if (cookie) requireSameOrigin(request);
  await endSession(cookie);
  return json({ signed_out: true }, 200, { "Set-Cookie": clearedSessionCookie() });
});
