import { cloneFromBody } from "@/lib/api/clone";
import { json, route } from "@/lib/api/handler";
import { toCreatedBatchJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /api/batches/[id]/clone – run the batch again, on all its records or some, with changed parameters or options
export const POST = route("POST /api/batches/{id}/clone", async ({ params, body }) =>
  json(toCreatedBatchJson(await cloneFromBody(params.id, body)), 201),
);
