// The one authorization hook every route goes through (called by route() in ./handler).
// Issue 7 implements it (API keys, sessions, scopes; lib/auth/authorize.ts holds the building
// blocks): until then it allows every request, so the API is open — do not expose it publicly.
import "server-only";

export type RouteScope = "read" | "write" | "admin";

export async function authorize(_request: Request, _scope: RouteScope): Promise<void> {
  // issue 7: replace with lib/auth/authorize.ts's authorize(request, scope)
}
