import { deleteDataset, getDataset } from "@/lib/datasets";
import { route } from "@/lib/api/handler";
import { toDatasetJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/datasets/[id] – one dataset by id or name
export const GET = route("GET /api/datasets/{id}", async ({ params }) => toDatasetJson(await getDataset(params.id)));

// DELETE /api/datasets/[id] – delete a dataset and its records (409 while an unfinished batch uses it)
export const DELETE = route("DELETE /api/datasets/{id}", async ({ params }) => {
  await deleteDataset(params.id);
  return new Response(null, { status: 204 });
});
