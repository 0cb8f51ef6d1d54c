// Who is calling, and may they? Bearer API keys for scripts and the CLI; the session cookie for the
// dashboard, with an Origin check on cookie-authenticated mutations (CSRF); BATCHBOARD_AUTH=off for
// local experiments, where a browser's cross-site mutation is still refused. Wrong keys are
// throttled per client address (./throttle). Scopes nest: admin > write > read.
import { getConfig } from "@/lib/config";
import { AppError } from "@/lib/errors";
import { clientAddress, requestHost } from "./client-address";
import { hasScope, verifyKey, type Principal, type Scope } from "./keys";
import { RateLimiter } from "./rate-limit";
import { SESSION_COOKIE, readCookie, readSession } from "./session";
import { throttled } from "./throttle";

const LOCAL: Principal = { id: "local", name: "local (auth off)", scopes: ["admin"], via: "none" };
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

const g = globalThis as typeof globalThis & { __batchboardRateLimiter?: { perSecond: number; limiter: RateLimiter } };
function limiter(): RateLimiter {
  const perSecond = getConfig().BATCHBOARD_RATE_LIMIT_PER_SECOND;
  // a changed setting (tests switch it) starts new buckets
  if (g.__batchboardRateLimiter?.perSecond !== perSecond) g.__batchboardRateLimiter = { perSecond, limiter: new RateLimiter(perSecond, perSecond * 2) };
  return g.__batchboardRateLimiter.limiter;
}

export function authEnabled(): boolean {
  return getConfig().BATCHBOARD_AUTH !== "off";
}

/**
 * Whether the browser says the request came from our own origin: true or false from Sec-Fetch-Site
 * or Origin, null when it sent neither (not a browser, or one too old to say).
 */
function fromOwnOrigin(request: Request): boolean | null {
  const site = request.headers.get("sec-fetch-site");
  if (site) return site === "same-origin" || site === "none";
  const origin = request.headers.get("origin");
  if (!origin) return null;
  try {
    return new URL(origin).host === requestHost(request);
  } catch {
    return false;
  }
}

/** A cookie-authenticated mutation must come from our own origin. */
function sameOrigin(request: Request): boolean {
  return fromOwnOrigin(request) === true;
}

/** Refuses (403) a cookie-carried mutation that did not come from our own origin (CSRF). */
export function requireSameOrigin(request: Request): void {
  if (!sameOrigin(request)) {
    throw new AppError("forbidden", "cross-site request refused (CSRF): send mutations from the dashboard or with an API key");
  }
}

async function identify(request: Request): Promise<Principal | null> {
  const header = request.headers.get("authorization");
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new AppError("unauthorized", "the Authorization header must be `Bearer <api key>`");
    const principal = await throttled(clientAddress(request), () => verifyKey(match[1]!));
    if (!principal) throw new AppError("unauthorized", "unknown or revoked API key");
    return principal;
  }
  const principal = await readSession(readCookie(request, SESSION_COOKIE));
  if (principal && !SAFE_METHODS.has(request.method)) requireSameOrigin(request);
  return principal;
}

/** Authenticates the request and checks `scope`; rate-limits mutations per caller. Throws AppError 401/403/429. */
export async function authorize(request: Request, scope: Scope): Promise<Principal> {
  // with auth off nothing proves who is calling, but a browser still says where a request came from:
  // a page on another origin must not mutate (a no-cors text/plain POST needs no preflight)
  if (!authEnabled() && !SAFE_METHODS.has(request.method) && fromOwnOrigin(request) === false) {
    throw new AppError("forbidden", "cross-site request refused: this server runs without authentication and takes mutations only from its own pages or non-browser clients");
  }
  const principal = authEnabled() ? await identify(request) : LOCAL;
  if (!principal) {
    throw new AppError("unauthorized", "authentication required: send `Authorization: Bearer <api key>` or sign in", [], {
      "WWW-Authenticate": 'Bearer realm="batchboard"',
    });
  }
  if (!hasScope(principal.scopes, scope)) {
    throw new AppError("forbidden", `this route needs the ${scope} scope; the key has ${principal.scopes.join(", ") || "none"}`);
  }
  if (!SAFE_METHODS.has(request.method)) {
    const caller = principal.id !== "local" ? principal.id : clientAddress(request);
    const r = limiter().take(caller);
    if (!r.ok) {
      throw new AppError("rate_limited", `too many requests: retry in ${r.retryAfterSeconds}s`, [], {
        "Retry-After": String(r.retryAfterSeconds),
      });
    }
  }
  return principal;
}
