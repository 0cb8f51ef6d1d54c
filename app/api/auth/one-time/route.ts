import { NextResponse } from "next/server";
import { route } from "@/lib/api/handler";
import { clientAddress } from "@/lib/auth/client-address";
import { consumeSignInToken, createSession, sessionCookie } from "@/lib/auth/session";
import { throttled } from "@/lib/auth/throttle";
import { AppError } from "@/lib/errors";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/auth/one-time?token=… – the first-start sign-in link: sets the session cookie once, then redirects home
export const GET = route("GET /api/auth/one-time", async ({ query, request }) => {
  const principalId = await throttled(clientAddress(request), () => consumeSignInToken(query.token));
  if (!principalId) throw new AppError("unauthorized", "this sign-in link is unknown, used or expired: sign in with an API key");
  const res = NextResponse.redirect(new URL("/batches", request.nextUrl.origin), 303);
  res.headers.set("Set-Cookie", sessionCookie(await createSession(principalId), request.nextUrl.protocol === "https:"));
  return res;
});
