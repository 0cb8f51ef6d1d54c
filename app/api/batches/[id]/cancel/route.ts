import { cancelBatch } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { toBatchJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /api/batches/[id]/cancel – cancel the batch: pending jobs are cancelled, running ones aborted
export const POST = route("POST /api/batches/{id}/cancel", async ({ params }) => toBatchJson(await cancelBatch(params.id)));
