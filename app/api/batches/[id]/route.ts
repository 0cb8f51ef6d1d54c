import { cancelBatch, getBatch } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { toBatchJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/batches/[id] – one batch with progress, cost and timing
export const GET = route("GET /api/batches/{id}", async ({ params }) => toBatchJson(await getBatch(params.id)));

// DELETE /api/batches/[id] – cancel the batch (it stays readable); kept for existing clients, POST …/delete deletes
export const DELETE = route("DELETE /api/batches/{id}", async ({ params }) => toBatchJson(await cancelBatch(params.id)));
