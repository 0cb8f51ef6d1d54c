import { createV1Batch, listV1Batches } from "@/lib/openai/batches";
import { v1Route } from "@/lib/openai/http";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /v1/batches – create a batch from an uploaded input file (runs as a batch of the openai flow)
export const POST = v1Route("POST /v1/batches", async ({ body }) => createV1Batch(body));

// GET /v1/batches – batches created through /v1, newest first (?after=&limit=)
export const GET = v1Route("GET /v1/batches", async ({ query }) => listV1Batches(query));
