import { deleteDataset, getDataset } from "@/lib/datasets";
import { route } from "@/lib/api/handler";
import { idParams } from "@/lib/api/schemas";
import { toDatasetJson } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/datasets/[id] – one dataset by id or name
export const GET = route({ scope: "read", params: idParams }, async ({ params }) => toDatasetJson(await getDataset(params.id)));

// DELETE /api/datasets/[id] – delete a dataset and its records (409 while an unfinished batch uses it)
export const DELETE = route({ scope: "write", params: idParams }, async ({ params }) => {
  await deleteDataset(params.id);
  return new Response(null, { status: 204 });
});
