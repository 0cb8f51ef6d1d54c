import type { ClientBase } from "pg";
import { createBatch, listBatches, type BatchRead } from "@/lib/engine";
import { json, route } from "@/lib/api/handler";
import { idempotencyKeyOf, withIdempotency } from "@/lib/api/idempotency";
import { toBatchJson, toCreateBatchInput, toCreatedBatchJson, toPage } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /api/batches – create a batch from a flow, its parameters and a source, and say what to expect; Idempotency-Key aware
export const POST = route("POST /api/batches", async ({ body, rawBody, request, principal }) =>
  // keys are per caller: one caller's key never replays another caller's batch
  withIdempotency(`POST /api/batches ${principal.id}`, idempotencyKeyOf(request), rawBody ?? {}, async (store) => {
    // the stored response commits with the batch: a replay never answers for a batch that is not there
    const beforeCommit = store ? (client: ClientBase, b: BatchRead) => store(client, 201, toCreatedBatchJson(b)) : undefined;
    const batch = await createBatch(toCreateBatchInput(body), { beforeCommit });
    return [201, toCreatedBatchJson(batch)];
  }),
);

// GET /api/batches – batches filtered by status, flow and q, sorted by sort and order (newest first by default), cursor-paginated
export const GET = route("GET /api/batches", async ({ query }) =>
  json(toPage(await listBatches(query), (b) => toBatchJson(b))),
);
