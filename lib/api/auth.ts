// The one authorization hook every route goes through (called by route() in ./handler), by the scope
// its registry entry (./routes) names: API keys by bearer, the dashboard's session cookie (with a CSRF
// origin check), scopes, and per-caller rate limits on mutations live in lib/auth/authorize.ts;
// "public" routes (sign-in) skip it; "secret" ones take BATCHBOARD_WORKER_SECRET as their bearer.
import "server-only";
import { timingSafeEqual } from "node:crypto";
import { authorize as authorizeRequest } from "@/lib/auth/authorize";
import { clientAddress } from "@/lib/auth/client-address";
import type { Principal } from "@/lib/auth/keys";
import { throttled } from "@/lib/auth/throttle";
import { getConfig } from "@/lib/config";
import { AppError } from "@/lib/errors";
import type { Access } from "./routes";

export type { Principal };

const ANONYMOUS: Principal = { id: "anonymous", name: "anonymous", scopes: [], via: "none" };
const WORKER: Principal = { id: "worker-secret", name: "worker secret", scopes: [], via: "bearer" };

/** Bearer BATCHBOARD_WORKER_SECRET, compared in constant time; a route of this access does not exist without a secret. */
async function checkWorkerSecret(request: Request): Promise<Principal> {
  const secret = getConfig().BATCHBOARD_WORKER_SECRET;
  if (!secret) throw new AppError("not_found", `not found: set BATCHBOARD_WORKER_SECRET to enable ${request.method} ${new URL(request.url).pathname}`);
  const header = request.headers.get("authorization") ?? "";
  const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : "");
  const want = Buffer.from(secret);
  const ok = await throttled(clientAddress(request), async () => given.length === want.length && timingSafeEqual(given, want));
  if (!ok) {
    throw new AppError("unauthorized", "send Authorization: Bearer <BATCHBOARD_WORKER_SECRET>", [], { "www-authenticate": "Bearer" });
  }
  return WORKER;
}

export async function authorize(request: Request, access: Access): Promise<Principal> {
  if (access === "public") return ANONYMOUS;
  if (access === "secret") return checkWorkerSecret(request);
  return authorizeRequest(request, access);
}
