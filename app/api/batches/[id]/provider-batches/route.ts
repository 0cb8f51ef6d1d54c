import { listProviderBatches } from "@/lib/engine/provider-batches";
import { route } from "@/lib/api/handler";
import { toProviderBatchesJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/batches/[id]/provider-batches – the batch's records sent to a provider's batch tier, per provider batch
export const GET = route("GET /api/batches/{id}/provider-batches", async ({ params }) => toProviderBatchesJson(await listProviderBatches(params.id)));
