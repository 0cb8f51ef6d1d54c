// The one authorization hook every route goes through (called by route() in ./handler): API keys by
// bearer, the dashboard's session cookie (with a CSRF origin check), scopes, and per-caller rate
// limits on mutations live in lib/auth/authorize.ts. "public" routes (sign-in) skip it.
import "server-only";
import { authorize as authorizeRequest } from "@/lib/auth/authorize";
import type { Principal, Scope } from "@/lib/auth/keys";

export type RouteScope = Scope | "public";
export type { Principal };

const ANONYMOUS: Principal = { id: "anonymous", name: "anonymous", scopes: [], via: "none" };

export async function authorize(request: Request, scope: RouteScope): Promise<Principal> {
  return scope === "public" ? ANONYMOUS : authorizeRequest(request, scope);
}
