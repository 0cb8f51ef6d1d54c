// Wire shapes for API keys (GET/POST /api/keys, DELETE /api/keys/[id]).
import "server-only";
import { z } from "zod";
import { SCOPES, type ApiKeyInfo } from "@/lib/auth/keys";

export const createKeySchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(z.enum(SCOPES)).min(1).max(3),
});

export const keyIdParams = z.object({ id: z.string().min(1).max(100) });

export function toKeyJson(k: ApiKeyInfo) {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    created_at: k.createdAt.toISOString(),
    last_used_at: k.lastUsedAt?.toISOString() ?? null,
    revoked_at: k.revokedAt?.toISOString() ?? null,
  };
}
