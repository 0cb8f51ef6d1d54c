import { pauseBatch } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { toBatchJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /api/batches/[id]/pause – pause the batch: no new jobs start, running ones finish
export const POST = route("POST /api/batches/{id}/pause", async ({ params }) => toBatchJson(await pauseBatch(params.id)));
