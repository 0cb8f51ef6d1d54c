import { cloneBatchSchema, cloneFromBody } from "@/lib/api/clone";
import { json, route } from "@/lib/api/handler";
import { idParams } from "@/lib/api/schemas";
import { toCreatedBatchJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /api/batches/[id]/clone – run the batch again, on all its records or some, with changed parameters or options
export const POST = route({ scope: "write", params: idParams, body: cloneBatchSchema }, async ({ params, body }) =>
  json(toCreatedBatchJson(await cloneFromBody(params.id, body)), 201),
);
