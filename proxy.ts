// Runs before every page: gives the page its Content-Security-Policy with a fresh script nonce
// (lib/csp.ts; Next.js reads the nonce from the request's policy header and the root layout from
// x-nonce), and sends a visitor without a session to /signin when auth is on. The redirect is only a
// friendly one: every API route checks the session or key itself (lib/auth/authorize.ts).
import { NextResponse, type NextRequest } from "next/server";
import { getConfig } from "@/lib/config";
import { createNonce, pageContentSecurityPolicy } from "@/lib/csp";

/** Pages a visitor without a session may see. */
const OPEN = /^\/(signin|docs)(\/|$)/;

export function proxy(request: NextRequest) {
  const nonce = createNonce();
  const csp = pageContentSecurityPolicy(nonce);
  let response: NextResponse;
  if (getConfig().BATCHBOARD_AUTH !== "off" && !request.cookies.has("bb_session") && !OPEN.test(request.nextUrl.pathname)) {
    const url = request.nextUrl.clone();
    url.pathname = "/signin";
    url.search = `?next=${encodeURIComponent(request.nextUrl.pathname + request.nextUrl.search)}`;
    response = NextResponse.redirect(url);
  } else {
    const headers = new Headers(request.headers);
    headers.set("x-nonce", nonce);
    headers.set("content-security-policy", csp);
    response = NextResponse.next({ request: { headers } });
  }
  response.headers.set("Content-Security-Policy", csp);
  return response;
}

export const config = {
  // pages only: the APIs (/api, the OpenAI-compatible /v1, the /batch job API: not /batches, a page) have a policy
  // of their own (next.config.ts) and answer 401 themselves; static assets need none
  matcher: ["/((?!api|v1|batch(?:/|$)|_next|favicon.ico).*)"],
};
