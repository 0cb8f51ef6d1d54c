import { listRecords } from "@/lib/datasets";
import { route } from "@/lib/api/handler";
import { idParams, pageQuery } from "@/lib/api/schemas";
import { toDatasetRecordJson, toPage } from "@/lib/api/serialize";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

// GET /api/datasets/[id]/records – the dataset's records in source order, cursor-paginated
export const GET = route({ scope: "read", params: idParams, query: pageQuery }, async ({ params, query }) =>
  toPage(await listRecords(params.id, query), toDatasetRecordJson),
);
