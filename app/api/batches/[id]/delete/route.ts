import { deleteBatch } from "@/lib/engine";
import { route } from "@/lib/api/handler";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// POST /api/batches/[id]/delete – delete a finished batch with its jobs, attempts, prompts and results (409 while it can still run)
export const POST = route("POST /api/batches/{id}/delete", async ({ params }) => {
  const deleted = await deleteBatch(params.id);
  return { id: deleted.id, deleted: true as const, jobs_deleted: deleted.jobs };
});
