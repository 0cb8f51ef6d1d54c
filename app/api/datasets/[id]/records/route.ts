import { listRecords } from "@/lib/datasets";
import { route } from "@/lib/api/handler";
import { toDatasetRecordJson, toPage } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/datasets/[id]/records – the dataset's records in source order, cursor-paginated
export const GET = route("GET /api/datasets/{id}/records", async ({ params, query }) =>
  toPage(await listRecords(params.id, query), toDatasetRecordJson),
);
