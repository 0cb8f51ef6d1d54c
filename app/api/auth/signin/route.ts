import { json, route } from "@/lib/api/handler";
import { clientAddress } from "@/lib/auth/client-address";
import { verifyKey } from "@/lib/auth/keys";
import { createSession, sessionCookie } from "@/lib/auth/session";
import { throttled } from "@/lib/auth/throttle";
import { AppError } from "@/lib/errors";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /api/auth/signin – exchange an API key for a dashboard session cookie
export const POST = route("POST /api/auth/signin", async ({ body, request }) => {
  const principal = await throttled(clientAddress(request), () => verifyKey(body.key));
  if (!principal) throw new AppError("unauthorized", "unknown or revoked API key");
  const secure = request.nextUrl.protocol === "https:";
  return json({ name: principal.name, scopes: principal.scopes }, 200, {
    "Set-Cookie": sessionCookie(await createSession(principal.id), secure),
  });
});
