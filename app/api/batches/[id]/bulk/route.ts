import { bulkJobs, getBatch } from "@/lib/engine";
import { route } from "@/lib/api/handler";
import { toBatchJson, toBulkJobsJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /api/batches/[id]/bulk – retry or cancel the jobs a filter shows or a list of record ids names; says how many changed
export const POST = route("POST /api/batches/{id}/bulk", async ({ params, body }) => {
  const selection = body.record_ids ? { recordIds: body.record_ids } : { filter: body.filter ?? {} };
  const outcome = await bulkJobs(params.id, body.action, selection);
  return toBulkJobsJson(outcome, toBatchJson(await getBatch(params.id)));
});
