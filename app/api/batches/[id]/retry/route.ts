import { retryBatch } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { toBatchJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /api/batches/[id]/retry – re-queue the batch's jobs in the given statuses (default failed)
export const POST = route("POST /api/batches/{id}/retry", async ({ params, body }) => {
  const { batch, retried } = await retryBatch(params.id, body.statuses);
  return { batch: toBatchJson(batch), retried };
});
