// Sends a visitor without a session to /signin when auth is on. This is only the friendly redirect:
// every API route checks the session or key itself (lib/auth/authorize.ts), so data never depends on it.
import { NextResponse, type NextRequest } from "next/server";
import { getConfig } from "@/lib/config";

export function proxy(request: NextRequest) {
  if (getConfig().BATCHBOARD_AUTH === "off") return NextResponse.next();
  if (request.cookies.has("bb_session")) return NextResponse.next();
  const url = request.nextUrl.clone();
  url.pathname = "/signin";
  url.search = `?next=${encodeURIComponent(request.nextUrl.pathname + request.nextUrl.search)}`;
  return NextResponse.redirect(url);
}

export const config = {
  // pages only: the API (/api, and the OpenAI-compatible /v1) answers 401 itself, and assets must load on the sign-in page
  matcher: ["/((?!api|v1|signin|docs|_next|favicon.ico).*)"],
};
