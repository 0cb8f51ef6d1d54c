import { cancelV1Batch } from "@/lib/openai/batches";
import { v1Route } from "@/lib/openai/http";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /v1/batches/[id]/cancel – cancel a batch: nothing more runs; `cancelling` until its files are counted
export const POST = v1Route("POST /v1/batches/{id}/cancel", async ({ params }) => cancelV1Batch(params.id));
