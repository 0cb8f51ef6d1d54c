import { timingSafeEqual } from "node:crypto";
import type { NextRequest } from "next/server";
import { z } from "zod";
import { renderError, validationError } from "@/lib/api/errors";
import { json, readJsonBody } from "@/lib/api/handler";
import { clientAddress } from "@/lib/auth/client-address";
import { throttled } from "@/lib/auth/throttle";
import { getConfig } from "@/lib/config";
import { runWorkerFor } from "@/lib/worker/worker";
import { AppError } from "@/lib/errors";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";
export const maxDuration = 300;

const runWorkerSchema = z.object({ max_ms: z.number().int().min(100).max(280_000).default(25_000) }).strict();

/** Bearer BATCHBOARD_WORKER_SECRET, compared in constant time; the route does not exist without a secret. */
async function checkSecret(request: Request): Promise<void> {
  const secret = getConfig().BATCHBOARD_WORKER_SECRET;
  if (!secret) throw new AppError("not_found", "not found: set BATCHBOARD_WORKER_SECRET to enable POST /api/worker/run");
  const header = request.headers.get("authorization") ?? "";
  const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : "");
  const want = Buffer.from(secret);
  const ok = await throttled(clientAddress(request), async () => given.length === want.length && timingSafeEqual(given, want));
  if (!ok) {
    throw new AppError("unauthorized", "send Authorization: Bearer <BATCHBOARD_WORKER_SECRET>", [], { "www-authenticate": "Bearer" });
  }
}

// POST /api/worker/run – process jobs for a bounded time (cron-driven, serverless deployments)
export async function POST(request: NextRequest): Promise<Response> {
  try {
    await checkSecret(request);
    const raw = await readJsonBody(request, 64 * 1024);
    const parsed = runWorkerSchema.safeParse(raw ?? {});
    if (!parsed.success) throw validationError(parsed.error, "body");
    const { processed } = await runWorkerFor(parsed.data.max_ms);
    return json({ processed });
  } catch (err) {
    return renderError(err, "POST /api/worker/run");
  }
}
