import { listFlows } from "@/lib/flows/registry";
import { route } from "@/lib/api/handler";
import { toFlowJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/flows – the registered flows with their parameters as JSON Schema
export const GET = route("GET /api/flows", async () => ({ items: listFlows().map(toFlowJson) }));
