import { listWorkers } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { toWorkerJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/workers – worker processes with their heartbeat and counters
export const GET = route("GET /api/workers", async () => ({ items: (await listWorkers()).map(toWorkerJson) }));
