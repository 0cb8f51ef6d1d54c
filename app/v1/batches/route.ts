import { createV1Batch, listV1Batches } from "@/lib/openai/batches";
import { v1Route } from "@/lib/openai/http";
import { createBatchRequestSchema, listBatchesQuery } from "@/lib/openai/schemas";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /v1/batches – create a batch from an uploaded input file (runs as a batch of the openai flow)
export const POST = v1Route({ scope: "write", body: createBatchRequestSchema, maxBodyBytes: 64 * 1024 }, async ({ body }) => createV1Batch(body));

// GET /v1/batches – batches created through /v1, newest first (?after=&limit=)
export const GET = v1Route({ scope: "read", query: listBatchesQuery }, async ({ query }) => listV1Batches(query));
