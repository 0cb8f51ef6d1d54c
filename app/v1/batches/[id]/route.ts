import { getV1Batch } from "@/lib/openai/batches";
import { v1Route } from "@/lib/openai/http";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /v1/batches/[id] – one batch, as OpenAI's Batch object
export const GET = v1Route("GET /v1/batches/{id}", async ({ params }) => getV1Batch(params.id));
